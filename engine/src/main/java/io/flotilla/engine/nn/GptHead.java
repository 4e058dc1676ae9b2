package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Final LayerNorm {@code transformer.ln_f} and the language-model head, whose weight is tied to the
 * token table {@code transformer.wte.weight} (logits = h wte^T). Output {@code [b, t, vocab]}.
 *
 * <p>When the embedding and the head sit in different pipeline stages, both stages list the tied
 * parameter; its gradient is the sum of both stages' contributions.
 */
public final class GptHead implements Layer {
  private final ComputeBackend backend;
  private final LayerNorm lnF;
  private final Parameter wte;
  private Tensor h;
  private Tensor logits;
  private Tensor dh;

  /** A head over width {@code c} tied to {@code wte} ({@code [vocab, c]}). */
  public GptHead(ComputeBackend backend, int c, Parameter wte) {
    this.backend = backend;
    this.lnF = new LayerNorm(backend, "transformer.ln_f", c);
    this.wte = wte;
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    h = lnF.forward(x, ctx);
    int v = wte.value().dim(0);
    int c = wte.value().dim(1);
    int n = h.size() / c;
    int[] shape = h.shape();
    shape[shape.length - 1] = v;
    logits = Tensor.ensure(logits, shape);
    backend.gemm(false, true, n, v, c, 1f, h, 0, c, wte.value(), 0, c, 0f, logits, 0, v);
    return logits;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int v = wte.value().dim(0);
    int c = wte.value().dim(1);
    int n = h.size() / c;
    // dwte[v, c] += dlogits^T[v, n] h[n, c]
    backend.gemm(true, false, v, c, n, 1f, gradOutput, 0, v, h, 0, c, 1f, wte.grad(), 0, c);
    dh = Tensor.ensure(dh, h.shape());
    backend.gemm(false, false, n, c, v, 1f, gradOutput, 0, v, wte.value(), 0, c, 0f, dh, 0, c);
    return lnF.backward(dh);
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> ps = new ArrayList<>(lnF.parameters());
    ps.add(wte);
    return ps;
  }
}
