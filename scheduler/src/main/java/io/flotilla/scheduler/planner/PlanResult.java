package io.flotilla.scheduler.planner;

import java.util.List;
import java.util.Objects;

/** What the planner decided: a {@link Plan}, or {@link Waiting} when the cluster cannot run it. */
public sealed interface PlanResult {

  /**
   * Where each stage runs and what a step is predicted to cost.
   *
   * @param jobName the job
   * @param stages one entry per pipeline stage, in order
   * @param predictedStepSeconds predicted duration of one optimizer step
   * @param pipelineSeconds (M + P - 1) x the slowest stage's micro-batch slot
   * @param slotSeconds the slowest stage's time per micro-batch (compute plus transfers)
   * @param transferSeconds activation and gradient transfer within that slot
   * @param allReduceSeconds the slowest stage's gradient synchronisation, per step
   * @param bubbleShare idle share of the pipeline: (P - 1) / (M + P - 1)
   * @param microBatches M
   * @param replicas D
   * @param redundancy r
   */
  record Plan(
      String jobName,
      List<StagePlan> stages,
      double predictedStepSeconds,
      double pipelineSeconds,
      double slotSeconds,
      double transferSeconds,
      double allReduceSeconds,
      double bubbleShare,
      int microBatches,
      int replicas,
      int redundancy)
      implements PlanResult {
    public Plan {
      Objects.requireNonNull(jobName, "jobName");
      stages = List.copyOf(stages);
    }

    /** Every worker of the plan, stage by stage. */
    public List<String> workerIds() {
      return stages.stream().flatMap(s -> s.workers().stream()).map(Placement::workerId).toList();
    }
  }

  /**
   * The job must wait in the queue until the cluster has what is missing.
   *
   * @param jobName the job
   * @param reason what is missing, for people
   * @param workersNeeded P x D x r
   * @param workersUsable registered workers that could take part
   * @param workersMissing how many more workers are needed (0 when memory is what is missing)
   * @param memoryBytesNeeded least memory per worker that any cut needs (0 when not the problem)
   */
  record Waiting(
      String jobName,
      String reason,
      int workersNeeded,
      int workersUsable,
      int workersMissing,
      long memoryBytesNeeded)
      implements PlanResult {}

  /**
   * One pipeline stage.
   *
   * @param index 0-based stage number
   * @param firstLayer index of its first layer
   * @param lastLayer index of its last layer (inclusive)
   * @param layerNames names of its layers
   * @param trainFlopsPerMicroBatch forward plus backward FLOPs for one micro-batch
   * @param paramBytes bytes of its parameters
   * @param memoryBytes predicted memory each of its workers needs
   * @param slotSeconds predicted time per micro-batch on its slowest worker, transfers included
   * @param workers its workers, one per (replica, copy)
   */
  record StagePlan(
      int index,
      int firstLayer,
      int lastLayer,
      List<String> layerNames,
      double trainFlopsPerMicroBatch,
      long paramBytes,
      long memoryBytes,
      double slotSeconds,
      List<Placement> workers) {
    public StagePlan {
      layerNames = List.copyOf(layerNames);
      workers = List.copyOf(workers);
    }
  }

  /**
   * One worker's share of a stage.
   *
   * @param workerId the worker
   * @param replica data-parallel replica, 0..D-1
   * @param copy redundant copy, 0..r-1
   * @param memoryBytes the worker's memory
   * @param gflops the worker's measured GFLOP/s
   */
  record Placement(String workerId, int replica, int copy, long memoryBytes, double gflops) {}
}
