package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.planner.PlanResult;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

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
 * @param failureReason why it failed (only in {@link Phase#FAILED}), or why it was last interrupted
 *     while it waits to be placed again
 * @param tokens tokens (or examples) trained on so far
 * @param lastStepNanos wall time of the last completed step; 0 before the first
 * @param tokensPerSecond tokens per second of the last completed step; 0 before the first
 * @param workers work done per worker id
 * @param checkpoint the last stored checkpoint; null before the first
 * @param restarts how often training was interrupted and placed again
 * @param payments what the ledger accepted to pay, per worker id
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
    long stepsCompleted,
    Double lastLoss,
    String failureReason,
    long tokens,
    long lastStepNanos,
    double tokensPerSecond,
    Map<String, WorkerTotals> workers,
    CheckpointRecord checkpoint,
    int restarts,
    Map<String, WorkerPay> payments)
    implements ControlMessage {

  public JobView {
    workers = workers == null ? Map.of() : Map.copyOf(workers);
    payments = payments == null ? Map.of() : Map.copyOf(payments);
  }

  /** Ledger units the ledger accepted to pay for this job so far. */
  public long spentUnits() {
    return payments.values().stream().mapToLong(WorkerPay::units).sum();
  }

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
    /** Training stopped because the job's budget is spent; see {@link #failureReason}. */
    PAUSED,
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
    return new JobView(
        jobId, null, Phase.NEW, null, null, null, null, null, 0, null, null, 0, 0, 0.0, Map.of(),
        null, 0, Map.of());
  }

  /** This state after {@code event}: the job manager's event handler, a pure function. */
  public JobView apply(JobEvent event) {
    return switch (event) {
      case JobEvent.JobSubmitted e ->
          new JobView(
              jobId,
              e.team(),
              Phase.QUEUED,
              e.spec(),
              e.at(),
              e.at(),
              null,
              null,
              0,
              null,
              null,
              0,
              0,
              0.0,
              Map.of(),
              null,
              0,
              Map.of());
      case JobEvent.JobQueued e -> with(Phase.QUEUED, e.at(), e.waiting(), null, failureReason);
      case JobEvent.JobPlanned e -> with(Phase.PLANNED, e.at(), null, e.plan(), null);
      case JobEvent.JobStarted e ->
          new JobView(
              jobId,
              team,
              Phase.RUNNING,
              spec,
              submittedAt,
              e.at(),
              null,
              plan,
              e.fromStep(),
              lastLoss,
              null,
              tokens,
              lastStepNanos,
              tokensPerSecond,
              workers,
              checkpoint,
              restarts,
              payments);
      case JobEvent.StepCompleted e -> {
        StepMetrics m = e.metrics();
        Map<String, WorkerTotals> totals = new HashMap<>(workers);
        for (StepMetrics.SlotWork w : m.work()) {
          totals.merge(w.workerId(), WorkerTotals.NONE.plus(w), (a, b) -> a.plus(w));
        }
        yield new JobView(
            jobId,
            team,
            Phase.RUNNING,
            spec,
            submittedAt,
            e.at(),
            null,
            plan,
            m.step(),
            m.loss(),
            null,
            tokens + m.tokens(),
            m.stepNanos(),
            m.tokensPerSecond(),
            totals,
            checkpoint,
            restarts,
            payments);
      }
      case JobEvent.CheckpointSaved e ->
          new JobView(
              jobId,
              team,
              phase,
              spec,
              submittedAt,
              e.at(),
              waiting,
              plan,
              stepsCompleted,
              lastLoss,
              failureReason,
              tokens,
              lastStepNanos,
              tokensPerSecond,
              workers,
              e.checkpoint(),
              restarts,
              payments);
      case JobEvent.JobInterrupted e ->
          new JobView(
              jobId,
              team,
              Phase.QUEUED,
              spec,
              submittedAt,
              e.at(),
              null,
              null,
              stepsCompleted,
              lastLoss,
              e.reason(),
              tokens,
              lastStepNanos,
              tokensPerSecond,
              workers,
              checkpoint,
              restarts + 1,
              payments);
      case JobEvent.WorkPaid e -> {
        Map<String, WorkerPay> pay = new HashMap<>(payments);
        pay.merge(
            e.workerId(),
            new WorkerPay(e.address(), e.receipts(), e.units()),
            (a, b) -> a.plus(e.address(), e.receipts(), e.units()));
        yield new JobView(
            jobId,
            team,
            phase,
            spec,
            submittedAt,
            e.at(),
            waiting,
            plan,
            stepsCompleted,
            lastLoss,
            failureReason,
            tokens,
            lastStepNanos,
            tokensPerSecond,
            workers,
            checkpoint,
            restarts,
            pay);
      }
      case JobEvent.JobPaused e -> with(Phase.PAUSED, e.at(), null, plan, e.reason());
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
        reason,
        tokens,
        lastStepNanos,
        tokensPerSecond,
        workers,
        checkpoint,
        restarts,
        payments);
  }
}
