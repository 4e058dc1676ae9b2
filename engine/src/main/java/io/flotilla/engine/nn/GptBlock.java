package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A pre-LayerNorm transformer block with two residual connections: {@code x + attn(ln_1(x))}, then
 * {@code + mlp(ln_2(.))} where the MLP is {@code c_fc -> GELU -> c_proj -> dropout}. Parameters
 * under {@code transformer.h.{index}}.
 */
public final class GptBlock implements Layer {
  private final ComputeBackend backend;
  private final LayerNorm ln1;
  private final CausalSelfAttention attn;
  private final LayerNorm ln2;
  private final Linear fc;
  private final Activation gelu;
  private final Linear proj;
  private final Dropout mlpDropout;
  private Tensor x1;
  private Tensor out;
  private Tensor dx1;
  private Tensor dx;

  /** Block {@code index} of width {@code c} with {@code heads} attention heads. */
  public GptBlock(ComputeBackend backend, int index, int c, int heads, float dropoutP) {
    this.backend = backend;
    String p = "transformer.h." + index;
    this.ln1 = new LayerNorm(backend, p + ".ln_1", c);
    this.attn = new CausalSelfAttention(backend, p + ".attn", c, heads, dropoutP, 100L + 2 * index);
    this.ln2 = new LayerNorm(backend, p + ".ln_2", c);
    this.fc = new Linear(backend, p + ".mlp.c_fc", c, 4 * c);
    this.gelu = new Activation(backend, Activation.Kind.GELU);
    this.proj = new Linear(backend, p + ".mlp.c_proj", 4 * c, c);
    this.mlpDropout = new Dropout(backend, dropoutP, 101L + 2 * index);
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    Tensor a = attn.forward(ln1.forward(x, ctx), ctx);
    x1 = Tensor.ensure(x1, x.shape());
    backend.add(x, a, x1, x.size());
    Tensor m =
        mlpDropout.forward(
            proj.forward(gelu.forward(fc.forward(ln2.forward(x1, ctx), ctx), ctx), ctx), ctx);
    out = Tensor.ensure(out, x.shape());
    backend.add(x1, m, out, x.size());
    return out;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int n = gradOutput.size();
    Tensor dm =
        ln2.backward(fc.backward(gelu.backward(proj.backward(mlpDropout.backward(gradOutput)))));
    dx1 = Tensor.ensure(dx1, gradOutput.shape());
    backend.add(gradOutput, dm, dx1, n);
    Tensor da = ln1.backward(attn.backward(dx1));
    dx = Tensor.ensure(dx, gradOutput.shape());
    backend.add(dx1, da, dx, n);
    return dx;
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> ps = new ArrayList<>(ln1.parameters());
    ps.addAll(attn.parameters());
    ps.addAll(ln2.parameters());
    ps.addAll(fc.parameters());
    ps.addAll(proj.parameters());
    return ps;
  }
}
