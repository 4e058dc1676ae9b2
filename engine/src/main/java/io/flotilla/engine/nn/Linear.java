package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.List;

/**
 * Affine map {@code y = x W + b} over the last dimension, with the weight stored as {@code [in,
 * out]} (the layout of GPT-2's Conv1D).
 */
public final class Linear implements Layer {
  private final ComputeBackend backend;
  private final Parameter weight;
  private final Parameter bias;
  private final int in;
  private final int out;
  private Tensor input;
  private Tensor output;
  private Tensor gradInput;

  /** A linear layer with parameters {@code name.weight} and {@code name.bias}. */
  public Linear(ComputeBackend backend, String name, int in, int out) {
    this.backend = backend;
    this.in = in;
    this.out = out;
    this.weight = Parameter.create(name + ".weight", in, out);
    this.bias = Parameter.create(name + ".bias", out);
  }

  /** The weight {@code [in, out]}. */
  public Parameter weight() {
    return weight;
  }

  /** The bias {@code [out]}. */
  public Parameter bias() {
    return bias;
  }

  private static int[] withLast(Tensor x, int last) {
    int[] s = x.shape();
    s[s.length - 1] = last;
    return s;
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    if (x.dim(-1) != in) {
      throw new IllegalArgumentException(
          weight.name() + " expects " + in + " input features, got " + x);
    }
    input = x;
    output = Tensor.ensure(output, withLast(x, out));
    backend.linearForward(x, weight.value(), bias.value(), output, x.size() / in, in, out);
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    gradInput = Tensor.ensure(gradInput, input.shape());
    backend.linearBackward(
        input,
        weight.value(),
        gradOutput,
        gradInput,
        weight.grad(),
        bias.grad(),
        input.size() / in,
        in,
        out);
    return gradInput;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(weight, bias);
  }
}
