package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * A stage host holds an executor for its slot of the job and will run step {@code nextStep} next.
 *
 * @param jobId the job
 * @param stage pipeline stage of the slot
 * @param replica replica of the slot
 * @param workerId the worker
 * @param nextStep the step the executor runs next (0-based)
 * @param reattached whether the host kept an executor it already had (no state was rebuilt)
 * @param lastReport when the kept executor is one step past what the job manager asked for (it ran
 *     a step whose report a failed scheduler node never received): that step's report, so the step
 *     is journaled rather than lost; null otherwise
 */
public record StageReady(
    String jobId,
    int stage,
    int replica,
    String workerId,
    long nextStep,
    boolean reattached,
    StepReport lastReport)
    implements TaskMessage {
  public StageReady {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(workerId, "workerId");
  }
}
