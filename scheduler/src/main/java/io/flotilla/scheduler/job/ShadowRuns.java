package io.flotilla.scheduler.job;

import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shadow runs of one step: for each checked data-parallel replica, one or more pipelines of
 * spare workers that run the replica's step from the same checkpoint, as jobs of their own ({@code
 * <job>-shadow-<replica>-<attempt>}) so that they never mix with the job's own tensors or stages.
 * Bookkeeping only; the {@link StepDriver} sends the orders.
 */
final class ShadowRuns {

  /**
   * One shadow pipeline.
   *
   * @param replica the replica it shadows
   * @param jobId its own job id at the stage hosts
   * @param assignments its slots, by stage
   */
  record Run(int replica, String jobId, List<StageAssignment> assignments) {
    List<String> workers() {
      return assignments.stream().map(a -> a.self().workerId()).toList();
    }
  }

  final long step;
  private final String jobId;
  private final List<StageAssignment> real;
  private final Map<String, Run> byJob = new LinkedHashMap<>();
  private final Map<String, StepReport> reports = new HashMap<>();
  private final Set<String> ready = new HashSet<>();

  ShadowRuns(String jobId, long step, List<StageAssignment> real) {
    this.jobId = jobId;
    this.step = step;
    this.real = real;
  }

  /**
   * Adds a shadow of {@code replica} on {@code workers} (one per stage, in stage order).
   *
   * @throws IllegalArgumentException when a worker has no data-plane endpoint
   */
  Run add(int replica, List<String> workers, Map<String, WorkerCapabilities> capabilities) {
    int attempt = (int) byJob.values().stream().filter(r -> r.replica() == replica).count() + 1;
    String shadowJob = io.flotilla.protocol.task.StepMode.shadowJobId(jobId, replica, attempt);
    StageAssignment any = real.get(0);
    List<StageSlot> slots = new ArrayList<>();
    for (StageSlot s : any.slots()) {
      if (s.replica() != replica) {
        slots.add(s);
        continue;
      }
      WorkerCapabilities caps = capabilities.get(workers.get(s.stage()));
      if (caps == null || caps.dataPlane() == null) {
        throw new IllegalArgumentException(
            "worker " + workers.get(s.stage()) + " has no data-plane endpoint in the registry");
      }
      slots.add(
          new StageSlot(
              s.stage(), replica, caps.workerId(), caps.dataPlane(), caps.dataPlane().streamId()));
    }
    List<StageAssignment> assignments = new ArrayList<>();
    for (StageAssignment a : real) {
      if (a.replica() == replica) {
        assignments.add(
            new StageAssignment(
                shadowJob,
                a.spec(),
                a.stage(),
                a.stages(),
                a.firstLayer(),
                a.endLayer(),
                replica,
                a.replicas(),
                slots));
      }
    }
    assignments.sort(java.util.Comparator.comparingInt(StageAssignment::stage));
    Run run = new Run(replica, shadowJob, List.copyOf(assignments));
    byJob.put(shadowJob, run);
    return run;
  }

  /** The workers of every run of {@code replica}. */
  Set<String> usedBy(int replica) {
    Set<String> workers = new HashSet<>();
    byJob.values().stream()
        .filter(run -> run.replica() == replica)
        .forEach(run -> workers.addAll(run.workers()));
    return workers;
  }

  /** Whether {@code someJobId} is one of these shadows. */
  boolean owns(String someJobId) {
    return byJob.containsKey(someJobId);
  }

  Run run(String shadowJob) {
    return byJob.get(shadowJob);
  }

  List<Run> runs() {
    return List.copyOf(byJob.values());
  }

  /** Every worker that was a shadow of this step, so that none is picked twice. */
  Set<String> used() {
    Set<String> workers = new HashSet<>();
    byJob.values().forEach(run -> workers.addAll(run.workers()));
    return workers;
  }

  /** Every shadow worker of {@code run} is ready after this one; true when the run is. */
  boolean ready(Run run, String workerId) {
    ready.add(run.jobId() + "/" + workerId);
    return run.workers().stream().allMatch(w -> ready.contains(run.jobId() + "/" + w));
  }

  /** Whether every shadow of every run is ready. */
  boolean allReady() {
    return byJob.values().stream()
        .allMatch(
            run -> run.workers().stream().allMatch(w -> ready.contains(run.jobId() + "/" + w)));
  }

  /** Records a shadow's report. */
  void report(StepReport r) {
    reports.put(r.jobId() + "/" + r.workerId(), r);
  }

  /** Whether every stage of {@code run} reported. */
  boolean complete(Run run) {
    return run.workers().stream().allMatch(w -> reports.containsKey(run.jobId() + "/" + w));
  }

  /** Whether every run reported. */
  boolean complete() {
    return byJob.values().stream().allMatch(this::complete);
  }

  /** The replicas that have shadows. */
  Set<Integer> replicas() {
    Set<Integer> r = new java.util.TreeSet<>();
    byJob.values().forEach(run -> r.add(run.replica()));
    return r;
  }

  /** The reports of {@code replica}'s shadow runs, each in stage order. */
  List<List<StepReport>> reportsOf(int replica) {
    List<List<StepReport>> runs = new ArrayList<>();
    for (Run run : byJob.values()) {
      if (run.replica() == replica) {
        runs.add(run.workers().stream().map(w -> reports.get(run.jobId() + "/" + w)).toList());
      }
    }
    return runs;
  }
}
