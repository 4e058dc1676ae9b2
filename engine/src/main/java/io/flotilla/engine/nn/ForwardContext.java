package io.flotilla.engine.nn;

/**
 * Per-pass settings for a forward pass.
 *
 * @param training whether dropout is active
 * @param seed seed for dropout masks of this pass; derive it from (job seed, step, micro-batch) so
 *     redundant workers draw the same masks
 */
public record ForwardContext(boolean training, long seed) {
  /** Inference: no dropout. */
  public static final ForwardContext EVAL = new ForwardContext(false, 0);
}
