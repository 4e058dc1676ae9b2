package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * Tells every stage replica of a job to run training step {@code step} (0-based). Each replies with
 * a {@link StepReport} or a {@link StageFailed}.
 *
 * @param jobId the job
 * @param step the step to run
 * @param mode plain, traced for a shadow check, or the shadow itself
 */
public record RunStep(String jobId, long step, StepMode mode) implements TaskMessage {
  public RunStep {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(mode, "mode");
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, was " + step);
    }
  }

  /** A plain step. */
  public RunStep(String jobId, long step) {
    this(jobId, step, StepMode.PLAIN);
  }
}
