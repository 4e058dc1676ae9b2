package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.List;

/** Elementwise activation without parameters: GELU (tanh approximation) or ReLU. */
public final class Activation implements Layer {
  /** Which function. */
  public enum Kind {
    /** GELU, tanh approximation (GPT-2's {@code gelu_new}). */
    GELU,
    /** max(x, 0). */
    RELU
  }

  private final ComputeBackend backend;
  private final Kind kind;
  private Tensor input;
  private Tensor output;
  private Tensor gradInput;

  /** An activation layer of this kind. */
  public Activation(ComputeBackend backend, Kind kind) {
    this.backend = backend;
    this.kind = kind;
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    input = x;
    output = Tensor.ensure(output, x.shape());
    if (kind == Kind.GELU) {
      backend.geluForward(x, output, x.size());
    } else {
      backend.reluForward(x, output, x.size());
    }
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    gradInput = Tensor.ensure(gradInput, input.shape());
    if (kind == Kind.GELU) {
      backend.geluBackward(input, gradOutput, gradInput, input.size());
    } else {
      backend.reluBackward(input, gradOutput, gradInput, input.size());
    }
    return gradInput;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of();
  }
}
