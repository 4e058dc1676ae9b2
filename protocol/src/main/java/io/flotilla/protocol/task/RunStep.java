package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * Tells every stage replica of a job to run training step {@code step} (0-based). Each replies with
 * a {@link StepReport} or a {@link StageFailed}.
 *
 * @param jobId the job
 * @param step the step to run
 */
public record RunStep(String jobId, long step) implements TaskMessage {
  public RunStep {
    Objects.requireNonNull(jobId, "jobId");
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, was " + step);
    }
  }
}
