package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.List;

/**
 * Inverted dropout. The mask is a pure function of the pass seed and this layer's id, so two
 * workers running the same (step, micro-batch) draw identical masks. Identity when not training or
 * when {@code p == 0}.
 */
public final class Dropout implements Layer {
  private final ComputeBackend backend;
  private final float p;
  private final long id;
  private Tensor mask;
  private Tensor output;
  private Tensor gradInput;
  private boolean active;

  /** Drops with probability {@code p} in [0, 1); {@code id} distinguishes layers' masks. */
  public Dropout(ComputeBackend backend, float p, long id) {
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + p);
    }
    this.backend = backend;
    this.p = p;
    this.id = id;
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    active = ctx.training() && p > 0f;
    if (!active) {
      return x;
    }
    mask = Tensor.ensure(mask, x.shape());
    output = Tensor.ensure(output, x.shape());
    backend.dropoutForward(x, mask, output, x.size(), p, ctx.seed() * 0x9E3779B97F4A7C15L + id);
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    if (!active) {
      return gradOutput;
    }
    gradInput = Tensor.ensure(gradInput, gradOutput.shape());
    backend.dropoutBackward(mask, gradOutput, gradInput, gradOutput.size());
    return gradInput;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of();
  }
}
