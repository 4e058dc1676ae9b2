package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Causal multi-head self-attention as in GPT-2: {@code c_attn} projects to queries, keys and
 * values, the backend computes masked softmax attention per head, {@code c_proj} projects back,
 * followed by residual dropout. Input and output {@code [b, t, c]}.
 */
public final class CausalSelfAttention implements Layer {
  private final ComputeBackend backend;
  private final Linear cAttn;
  private final Linear cProj;
  private final Dropout residDropout;
  private final int c;
  private final int heads;
  private Tensor qkv;
  private Tensor att;
  private Tensor datt;
  private Tensor y;
  private Tensor dqkv;

  /** Parameters under {@code prefix.c_attn} and {@code prefix.c_proj}. */
  public CausalSelfAttention(
      ComputeBackend backend, String prefix, int c, int heads, float dropoutP, long dropoutId) {
    if (c % heads != 0) {
      throw new IllegalArgumentException("width " + c + " is not divisible by heads " + heads);
    }
    this.backend = backend;
    this.c = c;
    this.heads = heads;
    this.cAttn = new Linear(backend, prefix + ".c_attn", c, 3 * c);
    this.cProj = new Linear(backend, prefix + ".c_proj", c, c);
    this.residDropout = new Dropout(backend, dropoutP, dropoutId);
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    int b = x.dim(0);
    int t = x.dim(1);
    qkv = cAttn.forward(x, ctx);
    att = Tensor.ensure(att, b, heads, t, t);
    y = Tensor.ensure(y, b, t, c);
    backend.attentionForward(qkv, att, y, b, t, c, heads);
    return residDropout.forward(cProj.forward(y, ctx), ctx);
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int b = qkv.dim(0);
    int t = qkv.dim(1);
    Tensor dy = cProj.backward(residDropout.backward(gradOutput));
    datt = Tensor.ensure(datt, b, heads, t, t);
    dqkv = Tensor.ensure(dqkv, b, t, 3 * c);
    backend.attentionBackward(qkv, att, dy, datt, dqkv, b, t, c, heads);
    return cAttn.backward(dqkv);
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> ps = new ArrayList<>(cAttn.parameters());
    ps.addAll(cProj.parameters());
    return ps;
  }
}
