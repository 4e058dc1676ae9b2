package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;

/**
 * Softmax cross-entropy over the last dimension of the logits. Targets hold class ids as floats;
 * negative targets are ignored (used to train only on the answer part of a sequence).
 */
public final class CrossEntropyLoss {
  private final ComputeBackend backend;
  private Tensor rowLoss;
  private Tensor grad;
  private int lastCount;

  /** A loss computing on this backend. */
  public CrossEntropyLoss(ComputeBackend backend) {
    this.backend = backend;
  }

  /** Number of non-ignored targets. */
  public static int countTargets(Tensor targets) {
    float[] d = targets.data();
    int count = 0;
    for (int i = 0; i < targets.size(); i++) {
      if (d[i] >= 0) {
        count++;
      }
    }
    return count;
  }

  /**
   * Computes the summed loss over non-ignored targets and stores the gradient {@code gradScale *
   * d(sum loss)/d(logits)} in {@link #grad()}.
   *
   * @return the sum (not the mean) of the per-target losses, accumulated in double in row order
   */
  public double forwardBackward(Tensor logits, Tensor targets, float gradScale) {
    int v = logits.dim(-1);
    int n = logits.size() / v;
    if (targets.size() != n) {
      throw new IllegalArgumentException(
          "targets " + targets + " do not match logits " + logits + " (need " + n + " targets)");
    }
    rowLoss = Tensor.ensure(rowLoss, n);
    grad = Tensor.ensure(grad, logits.shape());
    backend.crossEntropy(logits, targets, rowLoss, grad, n, v, gradScale);
    double sum = 0;
    float[] rl = rowLoss.data();
    for (int i = 0; i < n; i++) {
      sum += rl[i];
    }
    lastCount = countTargets(targets);
    return sum;
  }

  /** Gradient with respect to the logits from the last call. */
  public Tensor grad() {
    return grad;
  }

  /** Number of counted targets in the last call. */
  public int lastCount() {
    return lastCount;
  }
}
