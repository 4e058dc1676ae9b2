package io.flotilla.engine.optim;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with PyTorch's update rule, decoupled weight decay on parameters flagged for decay, and
 * gradient clipping by global norm. Moment buffers are allocated once.
 */
public final class AdamW {
  private final ComputeBackend backend;
  private final List<Parameter> parameters;
  private final OptimizerConfig config;
  private final Map<String, Tensor> m = new LinkedHashMap<>();
  private final Map<String, Tensor> v = new LinkedHashMap<>();
  private int step;

  /** An optimizer over these parameters (names must be unique). */
  public AdamW(ComputeBackend backend, List<Parameter> parameters, OptimizerConfig config) {
    this.backend = backend;
    this.parameters = List.copyOf(parameters);
    this.config = config;
    for (Parameter p : parameters) {
      if (m.put(p.name(), Tensor.zeros(p.value().shape())) != null) {
        throw new IllegalArgumentException("duplicate parameter name " + p.name());
      }
      v.put(p.name(), Tensor.zeros(p.value().shape()));
    }
  }

  /** The hyper-parameters. */
  public OptimizerConfig config() {
    return config;
  }

  /** Number of updates applied so far. */
  public int stepCount() {
    return step;
  }

  /** Global L2 norm of all gradients, accumulated in double in parameter order. */
  public double gradNorm() {
    double sum = 0;
    for (Parameter p : parameters) {
      sum += backend.sumOfSquares(p.grad(), p.size());
    }
    return Math.sqrt(sum);
  }

  /**
   * Scales gradients so their global norm is at most {@code config.gradClip()} (PyTorch's {@code
   * clip_grad_norm_} rule) when clipping is on.
   *
   * @return the norm before clipping
   */
  public double clipGradients() {
    double norm = gradNorm();
    if (config.gradClip() > 0) {
      double coeff = config.gradClip() / (norm + 1e-6);
      if (coeff < 1) {
        for (Parameter p : parameters) {
          backend.scale(p.grad(), (float) coeff, p.grad(), p.size());
        }
      }
    }
    return norm;
  }

  /** Applies one update with learning rate {@code lr}. */
  public void step(float lr) {
    step++;
    for (Parameter p : parameters) {
      backend.adamw(
          p.value(),
          p.grad(),
          m.get(p.name()),
          v.get(p.name()),
          p.size(),
          lr,
          config.beta1(),
          config.beta2(),
          config.eps(),
          p.decay() ? config.weightDecay() : 0f,
          step);
    }
  }

  /** First-moment buffers by parameter name (live, for checkpointing). */
  public Map<String, Tensor> firstMoments() {
    return m;
  }

  /** Second-moment buffers by parameter name (live, for checkpointing). */
  public Map<String, Tensor> secondMoments() {
    return v;
  }

  /** Restores the step counter (moments are restored by writing into the live buffers). */
  public void setStepCount(int steps) {
    this.step = steps;
  }
}
