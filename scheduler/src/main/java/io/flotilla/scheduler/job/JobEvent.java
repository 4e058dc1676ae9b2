package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.planner.PlanResult;
import java.time.Instant;

/**
 * What happened to a job, as its job manager journals it. Ids are part of the journal's format: see
 * {@link SchedulerKryoRegistrar}.
 */
public sealed interface JobEvent extends ControlMessage {

  /** When it happened. */
  Instant at();

  /** A team submitted the job with a validated spec. */
  record JobSubmitted(String team, JobSpec spec, Instant at) implements JobEvent {}

  /** The job waits in the queue for what {@code waiting} says is missing. */
  record JobQueued(PlanResult.Waiting waiting, Instant at) implements JobEvent {}

  /** The planner placed the job's stages on workers. */
  record JobPlanned(PlanResult.Plan plan, Instant at) implements JobEvent {}

  /** Training started on the planned workers. */
  record JobStarted(Instant at) implements JobEvent {}

  /**
   * Optimizer step {@code step} (1-based) finished and was verified.
   *
   * @param loss its training loss
   */
  record StepCompleted(int step, double loss, Instant at) implements JobEvent {}

  /** All steps finished. */
  record JobCompleted(Instant at) implements JobEvent {}

  /** The job stopped because of {@code reason}. */
  record JobFailed(String reason, Instant at) implements JobEvent {}

  /** The job's team cancelled it. */
  record JobCancelled(String team, Instant at) implements JobEvent {}
}
