package io.flotilla.protocol.job;

/**
 * The layers a model can be cut between into pipeline stages, as the engine and the planner count
 * them: for GPT the embedding, each transformer block, and the head (final LayerNorm and tied
 * language-model head); for an MLP each linear layer with its activation.
 */
public final class ModelLayers {
  private ModelLayers() {}

  /** How many layers {@code model} has. */
  public static int count(ModelSpec model) {
    return switch (model) {
      case GptModelSpec gpt -> gpt.layers() + 2;
      case MlpModelSpec mlp -> mlp.hiddenSizes().size() + 1;
    };
  }

  /** How the count is made, for error messages. */
  public static String describe(ModelSpec model) {
    return switch (model) {
      case GptModelSpec gpt -> "embedding + " + gpt.layers() + " blocks + head";
      case MlpModelSpec mlp -> (mlp.hiddenSizes().size() + 1) + " linear layers";
    };
  }
}
