package io.flotilla.engine.model;

import java.util.List;

/**
 * Architecture of a model. Plain data so the job spec can map onto it.
 *
 * @param type {@code gpt} or {@code mlp}
 * @param layers GPT: number of transformer blocks; ignored for mlp
 * @param width GPT: embedding width {@code n_embd}; ignored for mlp
 * @param heads GPT: attention heads (must divide width); ignored for mlp
 * @param context GPT: maximum sequence length {@code n_positions} (0 = the dataset's); ignored for
 *     mlp
 * @param vocab GPT: vocabulary size; mlp: number of classes; 0 = take it from the dataset
 * @param inputs mlp: number of input features (0 = from the dataset); ignored for gpt
 * @param hidden mlp: sizes of the hidden layers (ReLU between); ignored for gpt
 * @param dropout dropout probability in [0, 1) (GPT: embedding, residual and MLP dropout)
 */
public record ModelConfig(
    String type,
    int layers,
    int width,
    int heads,
    int context,
    int vocab,
    int inputs,
    List<Integer> hidden,
    float dropout) {

  /** Validates the fields for the given type, naming the first wrong field. */
  public ModelConfig {
    hidden = hidden == null ? List.of() : List.copyOf(hidden);
    if (!"gpt".equals(type) && !"mlp".equals(type)) {
      throw new IllegalArgumentException("model.type must be gpt or mlp, got " + type);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("model.dropout must be in [0, 1), got " + dropout);
    }
    if (vocab < 0) {
      throw new IllegalArgumentException(
          "model.vocab must be >= 0 (0 = from dataset), got " + vocab);
    }
    if ("gpt".equals(type)) {
      positive("model.layers", layers);
      positive("model.width", width);
      positive("model.heads", heads);
      if (context < 0) {
        throw new IllegalArgumentException(
            "model.context must be >= 0 (0 = from dataset), got " + context);
      }
      if (width % heads != 0) {
        throw new IllegalArgumentException(
            "model.width (" + width + ") must be divisible by model.heads (" + heads + ")");
      }
    } else {
      if (inputs < 0) {
        throw new IllegalArgumentException(
            "model.inputs must be >= 0 (0 = from dataset), got " + inputs);
      }
      for (int h : hidden) {
        positive("model.hidden[]", h);
      }
    }
  }

  private static void positive(String field, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(field + " must be >= 1, got " + v);
    }
  }

  /** A GPT configuration. */
  public static ModelConfig gpt(
      int layers, int width, int heads, int context, int vocab, float dropout) {
    return new ModelConfig("gpt", layers, width, heads, context, vocab, 0, List.of(), dropout);
  }

  /** An MLP classifier configuration. */
  public static ModelConfig mlp(int inputs, List<Integer> hidden, int classes, float dropout) {
    return new ModelConfig("mlp", 0, 0, 0, 0, classes, inputs, hidden, dropout);
  }

  /** Whether this is a GPT decoder. */
  public boolean isGpt() {
    return "gpt".equals(type);
  }

  /** The same configuration with another vocabulary (or class count) and input count. */
  public ModelConfig withData(int newVocab, int newInputs, int newContext) {
    return new ModelConfig(
        type, layers, width, heads, newContext, newVocab, newInputs, hidden, dropout);
  }
}
