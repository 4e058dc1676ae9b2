package io.flotilla.worker.pipeline;

/**
 * A stage could not complete a step: a peer went away or did not answer in time, a tensor arrived
 * corrupted or malformed, or a collective failed. The message names the stage, the step and the
 * peer at fault where there is one.
 */
public final class StageExecutionException extends RuntimeException {
  private final long step;

  /** A failure of {@code step}. */
  public StageExecutionException(long step, String message, Throwable cause) {
    super(message, cause);
    this.step = step;
  }

  /** The step that failed. */
  public long step() {
    return step;
  }
}
