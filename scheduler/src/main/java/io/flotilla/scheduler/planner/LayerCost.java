package io.flotilla.scheduler.planner;

import java.util.Objects;

/**
 * What one layer of a model costs, per training example. The engine measures these for real models;
 * {@link ModelCostEstimator} derives them analytically from a spec.
 *
 * @param name the layer's name, e.g. {@code transformer.h.0}
 * @param forwardFlops floating-point operations of the forward pass
 * @param backwardFlops floating-point operations of the backward pass
 * @param paramBytes bytes of parameters
 * @param activationBytes bytes of the layer's output, sent to the next stage when a cut follows
 * @param stashBytes bytes of activations kept from forward until backward
 */
public record LayerCost(
    String name,
    double forwardFlops,
    double backwardFlops,
    long paramBytes,
    long activationBytes,
    long stashBytes) {
  public LayerCost {
    Objects.requireNonNull(name, "name");
    if (!(forwardFlops >= 0)
        || !(backwardFlops >= 0)
        || Double.isInfinite(forwardFlops + backwardFlops)) {
      throw new IllegalArgumentException("FLOPs of " + name + " must be finite and >= 0");
    }
    if (paramBytes < 0 || activationBytes < 0 || stashBytes < 0) {
      throw new IllegalArgumentException("byte counts of " + name + " must be >= 0");
    }
  }

  /** Forward plus backward FLOPs. */
  public double trainFlops() {
    return forwardFlops + backwardFlops;
  }
}
