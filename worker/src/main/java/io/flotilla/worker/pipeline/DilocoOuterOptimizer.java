package io.flotilla.worker.pipeline;

import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * DiLoCo's outer optimizer for one stage replica: SGD with Nesterov momentum on the "outer
 * gradient", the replicas' average parameter change since the last synchronisation.
 *
 * <p>With anchor θ (the parameters all replicas agreed on at the last synchronisation), replica
 * parameters θ_d after H inner steps, Δ = mean_d(θ - θ_d), momentum μ and outer rate η: {@code m =
 * μ m + Δ}, {@code θ = θ - η (Δ + μ m)}; every replica then continues from the new θ. Replicas hold
 * bit-identical anchors, momenta and (all-reduced) Δ, so they stay identical.
 */
public final class DilocoOuterOptimizer {
  private final List<Parameter> parameters;
  private final float lr;
  private final float momentum;
  private final Map<Parameter, Tensor> anchors = new IdentityHashMap<>();
  private final Map<Parameter, Tensor> momenta = new IdentityHashMap<>();
  private final Map<Parameter, Tensor> deltas = new IdentityHashMap<>();

  /** Starts from the parameters' current values as the anchor. */
  public DilocoOuterOptimizer(List<Parameter> parameters, float lr, float momentum) {
    if (!(lr > 0) || !(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException(
          "parallelism.diloco needs outer_lr > 0 and outer_momentum in [0, 1), got "
              + lr
              + " and "
              + momentum);
    }
    this.parameters = List.copyOf(parameters);
    this.lr = lr;
    this.momentum = momentum;
    for (Parameter p : parameters) {
      anchors.put(p, p.value().copy());
      momenta.put(p, Tensor.zeros(p.value().shape()));
      deltas.put(p, Tensor.zeros(p.value().shape()));
    }
  }

  /** The anchor of {@code p}: its value at the last synchronisation (live, for checkpoints). */
  public Tensor anchor(Parameter p) {
    return anchors.get(p);
  }

  /** The outer momentum of {@code p} (live, for checkpoints). */
  public Tensor momentum(Parameter p) {
    return momenta.get(p);
  }

  /** Sets each delta to anchor - current value (this replica's outer gradient). */
  public void computeDeltas() {
    for (Parameter p : parameters) {
      float[] a = anchors.get(p).data();
      float[] v = p.value().data();
      float[] d = deltas.get(p).data();
      for (int i = 0; i < p.size(); i++) {
        d[i] = a[i] - v[i];
      }
    }
  }

  /** The delta buffer of {@code p}: summed over replicas in place before {@link #apply}. */
  public Tensor delta(Parameter p) {
    return deltas.get(p);
  }

  /**
   * Applies one outer step with the deltas summed over {@code replicas} replicas, then sets every
   * parameter to the new anchor.
   */
  public void apply(int replicas) {
    float inv = 1f / replicas;
    for (Parameter p : parameters) {
      float[] a = anchors.get(p).data();
      float[] m = momenta.get(p).data();
      float[] d = deltas.get(p).data();
      float[] v = p.value().data();
      for (int i = 0; i < p.size(); i++) {
        float g = d[i] * inv;
        m[i] = momentum * m[i] + g;
        a[i] -= lr * (g + momentum * m[i]);
        v[i] = a[i];
      }
    }
  }
}
