package io.flotilla.deploy;

import com.typesafe.config.ConfigFactory;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.planner.PlanResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Volunteers come and go: every {@code everySteps} completed steps of a job, crashes one honest
 * worker of the job's plan (no leave, no goodbye: its ActorSystem terminates and its data plane
 * closes, see {@link LocalCluster#crashWorker}) and starts a fresh in-process worker that joins the
 * cluster. The job manager has to notice the loss, place the job again and resume it from its last
 * checkpoint.
 *
 * <p>Driven by whoever follows the job: call {@link #observe} with each fresh view of it (the
 * demo's progress loop, a test's {@code awaitAssert}). Kills happen in order of threshold: the i-th
 * once the job has completed {@code i x everySteps} steps, never at or after its last step, and
 * never twice for one threshold even when the job goes back to an earlier checkpoint. The victim
 * rotates over the stages (kill i takes stage {@code i mod P}), the lowest replica there that is
 * neither spared nor already gone.
 */
public final class WorkerChurn {

  /**
   * One kill.
   *
   * @param step completed steps of the job when the worker was killed
   * @param workerId the killed worker
   * @param stage the stage it ran
   * @param replica the replica it ran
   * @param replacement the fresh worker started in its place
   */
  public record Kill(long step, String workerId, int stage, int replica, String replacement) {}

  private final LocalCluster cluster;
  private final long everySteps;
  private final Set<String> spared;
  private final List<Kill> kills = new ArrayList<>();

  /**
   * @param cluster where the workers run; it must have been started with crashable workers
   * @param everySteps completed steps between kills, at least 1
   * @param spared workers never killed (the demo's faulty ones: the replica vote deals with those)
   */
  public WorkerChurn(LocalCluster cluster, long everySteps, Set<String> spared) {
    if (everySteps < 1) {
      throw new IllegalArgumentException("everySteps must be at least 1, was " + everySteps);
    }
    this.cluster = cluster;
    this.everySteps = everySteps;
    this.spared = Set.copyOf(spared);
  }

  /** Completed steps between kills. */
  public long everySteps() {
    return everySteps;
  }

  /**
   * Kills a worker when {@code view} shows the job running past the next threshold.
   *
   * @return the kill, or empty when nothing was due (or no worker of the plan could be killed)
   */
  public Optional<Kill> observe(JobView view) {
    long due = everySteps * (kills.size() + 1);
    long total = view.spec().training().steps();
    if (view.phase() != JobView.Phase.RUNNING
        || view.plan() == null
        || view.stepsCompleted() < due
        || due >= total
        || view.stepsCompleted() >= total) {
      return Optional.empty();
    }
    Optional<Victim> victim = victim(view.plan());
    if (victim.isEmpty()) {
      return Optional.empty();
    }
    Victim v = victim.get();
    cluster.crashWorker(v.workerId());
    String fresh = cluster.nextWorkerId();
    cluster.addWorker(fresh, ConfigFactory.empty());
    Kill kill = new Kill(view.stepsCompleted(), v.workerId(), v.stage(), v.replica(), fresh);
    kills.add(kill);
    return Optional.of(kill);
  }

  /** The kills so far, in order. */
  public List<Kill> kills() {
    return List.copyOf(kills);
  }

  private record Victim(String workerId, int stage, int replica) {}

  private Optional<Victim> victim(PlanResult.Plan plan) {
    Set<String> alive = new java.util.HashSet<>();
    cluster.workers().forEach(w -> alive.add(w.workerId()));
    List<Victim> candidates = new ArrayList<>();
    for (PlanResult.StagePlan stage : plan.stages()) {
      for (PlanResult.Placement p : stage.workers()) {
        if (alive.contains(p.workerId()) && !spared.contains(p.workerId())) {
          candidates.add(new Victim(p.workerId(), stage.index(), p.replica()));
        }
      }
    }
    int wanted = kills.size() % plan.stages().size();
    Comparator<Victim> order =
        Comparator.comparingInt((Victim c) -> c.stage() == wanted ? 0 : 1)
            .thenComparingInt(Victim::stage)
            .thenComparingInt(Victim::replica);
    return candidates.stream().min(order);
  }
}
