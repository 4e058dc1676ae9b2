package io.flotilla.protocol.job;

import java.util.Objects;

/**
 * A GPT-2-style decoder: token and position embeddings, {@code layers} pre-LayerNorm transformer
 * blocks, a final LayerNorm and a language-model head tied to the token embedding.
 *
 * @param layers transformer blocks
 * @param width embedding width (GPT-2's {@code n_embd}); a multiple of {@code heads}
 * @param heads attention heads per block
 * @param context longest sequence in tokens (GPT-2's {@code n_positions})
 * @param vocabSize vocabulary size, or 0 to take it from the dataset's tokenizer
 * @param dropout dropout probability in [0, 1)
 * @param initFrom checkpoint to start from, empty for random initialisation
 */
public record GptModelSpec(
    int layers, int width, int heads, int context, int vocabSize, double dropout, String initFrom)
    implements ModelSpec {
  public GptModelSpec {
    initFrom = Objects.requireNonNullElse(initFrom, "");
  }

  @Override
  public String type() {
    return "gpt";
  }
}
