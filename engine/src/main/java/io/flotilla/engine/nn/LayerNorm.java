package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.List;

/** Layer normalisation over the last dimension with learned scale and shift (eps 1e-5). */
public final class LayerNorm implements Layer {
  /** GPT-2's {@code layer_norm_epsilon}. */
  public static final float EPS = 1e-5f;

  private final ComputeBackend backend;
  private final Parameter gamma;
  private final Parameter beta;
  private final int c;
  private Tensor input;
  private Tensor output;
  private Tensor mean;
  private Tensor rstd;
  private Tensor gradInput;

  /** Parameters {@code name.weight} (initialised to 1) and {@code name.bias}. */
  public LayerNorm(ComputeBackend backend, String name, int c) {
    this.backend = backend;
    this.c = c;
    this.gamma = new Parameter(name + ".weight", Tensor.zeros(c), Tensor.zeros(c), false);
    this.beta = new Parameter(name + ".bias", Tensor.zeros(c), Tensor.zeros(c), false);
    java.util.Arrays.fill(gamma.value().data(), 1f);
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    if (x.dim(-1) != c) {
      throw new IllegalArgumentException(gamma.name() + " expects " + c + " features, got " + x);
    }
    int n = x.size() / c;
    input = x;
    output = Tensor.ensure(output, x.shape());
    mean = Tensor.ensure(mean, n);
    rstd = Tensor.ensure(rstd, n);
    backend.layerNormForward(x, gamma.value(), beta.value(), output, mean, rstd, n, c, EPS);
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    gradInput = Tensor.ensure(gradInput, input.shape());
    backend.layerNormBackward(
        input,
        gamma.value(),
        mean,
        rstd,
        gradOutput,
        gradInput,
        gamma.grad(),
        beta.grad(),
        input.size() / c,
        c);
    return gradInput;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(gamma, beta);
  }
}
