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

  /**
   * Training started (or resumed) on the planned workers, from step {@code fromStep} (the number of
   * steps completed before it: 0, the step of the checkpoint it restarts from, or the steps
   * completed when every stage kept its state).
   */
  record JobStarted(long fromStep, Instant at) implements JobEvent {}

  /** An optimizer step finished on every stage replica; {@code metrics} says what it measured. */
  record StepCompleted(StepMetrics metrics, Instant at) implements JobEvent {}

  /** Every stage's shard of the state after {@code checkpoint.step()} steps is stored. */
  record CheckpointSaved(CheckpointRecord checkpoint, Instant at) implements JobEvent {}

  /**
   * Training stopped because of {@code reason} (a worker left, failed or timed out) and the job
   * goes back to the queue to be placed again; it resumes from its last checkpoint.
   */
  record JobInterrupted(String reason, Instant at) implements JobEvent {}

  /**
   * The ledger accepted {@code receipts} receipts of {@code workerId}'s work for {@code units}
   * ledger units, payable to {@code address}.
   */
  record WorkPaid(String workerId, String address, int receipts, long units, Instant at)
      implements JobEvent {}

  /** The job stopped training because the ledger refused to pay more: its budget is spent. */
  record JobPaused(String reason, Instant at) implements JobEvent {}

  /** All steps finished. */
  record JobCompleted(Instant at) implements JobEvent {}

  /** The job stopped because of {@code reason}. */
  record JobFailed(String reason, Instant at) implements JobEvent {}

  /** The job's team cancelled it. */
  record JobCancelled(String team, Instant at) implements JobEvent {}
}
