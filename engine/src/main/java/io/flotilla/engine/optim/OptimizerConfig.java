package io.flotilla.engine.optim;

/**
 * AdamW hyper-parameters.
 *
 * @param lr peak learning rate
 * @param beta1 first-moment decay
 * @param beta2 second-moment decay
 * @param eps denominator term
 * @param weightDecay decoupled weight decay, applied to matrices and embeddings only
 * @param gradClip maximum global gradient norm; 0 disables clipping
 */
public record OptimizerConfig(
    float lr, float beta1, float beta2, float eps, float weightDecay, float gradClip) {

  /** Validates ranges, naming the wrong field. */
  public OptimizerConfig {
    check(lr > 0, "optimizer.lr must be > 0, got " + lr);
    check(beta1 >= 0 && beta1 < 1, "optimizer.betas[0] must be in [0, 1), got " + beta1);
    check(beta2 >= 0 && beta2 < 1, "optimizer.betas[1] must be in [0, 1), got " + beta2);
    check(eps > 0, "optimizer.eps must be > 0, got " + eps);
    check(weightDecay >= 0, "optimizer.weight_decay must be >= 0, got " + weightDecay);
    check(gradClip >= 0, "optimizer.grad_clip must be >= 0 (0 = off), got " + gradClip);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** nanoGPT-like defaults: lr 1e-3, betas (0.9, 0.99), eps 1e-8, decay 0.1, clip 1.0. */
  public static OptimizerConfig defaults() {
    return new OptimizerConfig(1e-3f, 0.9f, 0.99f, 1e-8f, 0.1f, 1.0f);
  }
}
