package io.flotilla.scheduler.planner;

import io.flotilla.protocol.job.GptModelSpec;
import io.flotilla.protocol.job.MlpModelSpec;
import io.flotilla.protocol.job.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Analytic per-example costs of the models the engine supports, in float32, layer by layer as
 * {@link io.flotilla.protocol.job.ModelLayers} counts them. Backward passes cost twice their
 * forward pass (gradients for inputs and for weights).
 */
public final class ModelCostEstimator {

  /** Vocabulary assumed when a GPT spec leaves {@code vocab_size} to the dataset. */
  public static final int ASSUMED_VOCAB = 256;

  private static final int FLOAT_BYTES = 4;

  private ModelCostEstimator() {}

  /** Costs of each layer of {@code model}, in pipeline order. */
  public static List<LayerCost> estimate(ModelSpec model) {
    return switch (model) {
      case GptModelSpec gpt -> gpt(gpt);
      case MlpModelSpec mlp -> mlp(mlp);
    };
  }

  private static List<LayerCost> gpt(GptModelSpec m) {
    double t = m.context();
    double d = m.width();
    double v = m.vocabSize() > 0 ? m.vocabSize() : ASSUMED_VOCAB;
    long tokenBytes = (long) (t * d * FLOAT_BYTES);
    List<LayerCost> layers = new ArrayList<>();
    double embedForward = t * d;
    layers.add(
        new LayerCost(
            "transformer.wte+wpe",
            embedForward,
            2 * embedForward,
            (long) ((v + t) * d * FLOAT_BYTES),
            tokenBytes,
            (long) (t * FLOAT_BYTES)));
    // Per token: 24 d^2 for the four projections and the MLP (2 FLOPs per multiply-add),
    // plus 4 T d for attention scores and the weighted sum.
    double blockForward = t * (24 * d * d + 4 * t * d);
    long blockParams = (long) ((12 * d * d + 13 * d) * FLOAT_BYTES);
    // Kept for backward per token: LayerNorm outputs, q/k/v, attention output and projections,
    // the 4d MLP hidden before and after GELU, residuals (about 18 d), plus heads x T
    // attention probabilities.
    long blockStash = (long) (t * (18 * d + m.heads() * t) * FLOAT_BYTES);
    for (int i = 0; i < m.layers(); i++) {
      layers.add(
          new LayerCost(
              "transformer.h." + i,
              blockForward,
              2 * blockForward,
              blockParams,
              tokenBytes,
              blockStash));
    }
    double headForward = t * (2 * d * v + 5 * v + 8 * d);
    layers.add(
        new LayerCost(
            "transformer.ln_f+lm_head",
            headForward,
            2 * headForward,
            (long) ((d * v + 2 * d) * FLOAT_BYTES),
            0,
            (long) (t * (d + 2 * v) * FLOAT_BYTES)));
    return List.copyOf(layers);
  }

  private static List<LayerCost> mlp(MlpModelSpec m) {
    List<Integer> widths = new ArrayList<>();
    widths.add(m.inputSize());
    widths.addAll(m.hiddenSizes());
    widths.add(m.numClasses());
    List<LayerCost> layers = new ArrayList<>();
    for (int i = 0; i + 1 < widths.size(); i++) {
      double in = widths.get(i);
      double out = widths.get(i + 1);
      boolean last = i + 2 == widths.size();
      layers.add(
          new LayerCost(
              "fc" + i,
              2 * in * out + out,
              4 * in * out + out,
              (long) ((in * out + out) * FLOAT_BYTES),
              last ? 0 : (long) (out * FLOAT_BYTES),
              (long) ((in + 2 * out) * FLOAT_BYTES)));
    }
    return List.copyOf(layers);
  }
}
