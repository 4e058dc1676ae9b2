package io.flotilla.engine.nn;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.List;

/**
 * Token embedding {@code transformer.wte} plus learned positional embedding {@code
 * transformer.wpe}, then dropout. Input: token ids {@code [b, t]} stored as floats; output {@code
 * [b, t, c]}. The token table is shared with the tied language-model head.
 */
public final class GptEmbedding implements Layer {
  private final ComputeBackend backend;
  private final Parameter wte;
  private final Parameter wpe;
  private final Dropout dropout;
  private final int c;
  private Tensor tokens;
  private Tensor output;

  /** Embeddings for {@code vocab} tokens and {@code context} positions of width {@code c}. */
  public GptEmbedding(ComputeBackend backend, int vocab, int context, int c, float dropoutP) {
    this.backend = backend;
    this.c = c;
    this.wte = Parameter.create("transformer.wte.weight", vocab, c);
    this.wpe = Parameter.create("transformer.wpe.weight", context, c);
    this.dropout = new Dropout(backend, dropoutP, 1);
  }

  /** The token table, tied to the output head. */
  public Parameter tokenTable() {
    return wte;
  }

  @Override
  public Tensor forward(Tensor x, ForwardContext ctx) {
    if (x.rank() != 2) {
      throw new IllegalArgumentException("embedding expects token ids [batch, time], got " + x);
    }
    int b = x.dim(0);
    int t = x.dim(1);
    if (t > wpe.value().dim(0)) {
      throw new IllegalArgumentException(
          "sequence length " + t + " exceeds the context of " + wpe.value().dim(0));
    }
    tokens = x;
    output = Tensor.ensure(output, b, t, c);
    backend.embeddingForward(x, wte.value(), wpe.value(), output, b, t, c);
    return dropout.forward(output, ctx);
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Tensor g = dropout.backward(gradOutput);
    backend.embeddingBackward(tokens, g, wte.grad(), wpe.grad(), tokens.dim(0), tokens.dim(1), c);
    return null;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(wte, wpe);
  }
}
