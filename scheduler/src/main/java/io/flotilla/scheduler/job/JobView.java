package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.planner.PlanResult;
import java.time.Instant;

/**
 * The state of one job as its job manager holds it, and as the API shows it.
 *
 * @param jobId the job's id (the sharding entity id)
 * @param team the team that submitted it; null while {@link Phase#NEW}
 * @param phase where the job stands
 * @param spec the validated spec; null while {@link Phase#NEW}
 * @param submittedAt when it was submitted; null while {@link Phase#NEW}
 * @param updatedAt when its last event happened; null while {@link Phase#NEW}
 * @param waiting why it waits in the queue (only while {@link Phase#QUEUED} and once planned)
 * @param plan where its stages run (from {@link Phase#PLANNED} on)
 * @param stepsCompleted optimizer steps completed
 * @param lastLoss training loss of the last completed step; null before the first
 * @param failureReason why it failed (only in {@link Phase#FAILED})
 */
public record JobView(
    String jobId,
    String team,
    Phase phase,
    JobSpec spec,
    Instant submittedAt,
    Instant updatedAt,
    PlanResult.Waiting waiting,
    PlanResult.Plan plan,
    int stepsCompleted,
    Double lastLoss,
    String failureReason)
    implements ControlMessage {

  /** Where a job stands. */
  public enum Phase {
    /** No job was submitted under this id. */
    NEW,
    /** Waiting for enough workers (or workers with enough memory). */
    QUEUED,
    /** A plan places its stages on workers; training has not started. */
    PLANNED,
    /** Training runs; {@link #stepsCompleted} counts the steps done. */
    RUNNING,
    /** All steps done. */
    COMPLETED,
    /** Stopped by an error; see {@link #failureReason}. */
    FAILED,
    /** Cancelled by its team. */
    CANCELLED;

    /** Whether nothing more happens to a job in this phase. */
    public boolean isTerminal() {
      return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
  }

  /** The state of an id no job was submitted under. */
  public static JobView empty(String jobId) {
    return new JobView(jobId, null, Phase.NEW, null, null, null, null, null, 0, null, null);
  }

  /** This state after {@code event}: the job manager's event handler, a pure function. */
  public JobView apply(JobEvent event) {
    return switch (event) {
      case JobEvent.JobSubmitted e ->
          new JobView(
              jobId, e.team(), Phase.QUEUED, e.spec(), e.at(), e.at(), null, null, 0, null, null);
      case JobEvent.JobQueued e -> with(Phase.QUEUED, e.at(), e.waiting(), null, null);
      case JobEvent.JobPlanned e -> with(Phase.PLANNED, e.at(), null, e.plan(), null);
      case JobEvent.JobStarted e -> with(Phase.RUNNING, e.at(), null, plan, null);
      case JobEvent.StepCompleted e ->
          new JobView(
              jobId,
              team,
              Phase.RUNNING,
              spec,
              submittedAt,
              e.at(),
              null,
              plan,
              e.step(),
              e.loss(),
              null);
      case JobEvent.JobCompleted e -> with(Phase.COMPLETED, e.at(), null, plan, null);
      case JobEvent.JobFailed e -> with(Phase.FAILED, e.at(), waiting, plan, e.reason());
      case JobEvent.JobCancelled e -> with(Phase.CANCELLED, e.at(), waiting, plan, null);
    };
  }

  private JobView with(
      Phase newPhase,
      Instant at,
      PlanResult.Waiting newWaiting,
      PlanResult.Plan newPlan,
      String reason) {
    return new JobView(
        jobId,
        team,
        newPhase,
        spec,
        submittedAt,
        at,
        newWaiting,
        newPlan,
        stepsCompleted,
        lastLoss,
        reason);
  }
}
