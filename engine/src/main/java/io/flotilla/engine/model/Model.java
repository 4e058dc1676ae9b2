package io.flotilla.engine.model;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.nn.Activation;
import io.flotilla.engine.nn.Dropout;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.nn.GptBlock;
import io.flotilla.engine.nn.GptEmbedding;
import io.flotilla.engine.nn.GptHead;
import io.flotilla.engine.nn.Layer;
import io.flotilla.engine.nn.Linear;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A model as an ordered list of layers that can be cut into contiguous pipeline stages.
 *
 * <p>GPT layers: {@code [embedding, block 0, ..., block L-1, head]} (L + 2 layers), parameter names
 * as in Hugging Face's {@code GPT2LMHeadModel} (the tied {@code lm_head} is not a separate
 * parameter). MLP layers: {@code [linear, relu(+dropout), ..., linear]} with parameters {@code
 * layers.{i}.weight} ({@code [in, out]}) and {@code layers.{i}.bias}.
 */
public final class Model {
  private final ModelConfig config;
  private final List<Layer> layers;
  private final Stage whole;

  private Model(ModelConfig config, List<Layer> layers) {
    this.config = config;
    this.layers = List.copyOf(layers);
    this.whole = new Stage(layers, 0);
  }

  /** Builds a model and initialises it from {@code seed} (GPT-2 initialisation for GPT). */
  public static Model create(ComputeBackend backend, ModelConfig config, long seed) {
    if (config.vocab() < 1
        || (!config.isGpt() && config.inputs() < 1)
        || (config.isGpt() && config.context() < 1)) {
      throw new IllegalArgumentException(
          "model vocab/classes, inputs and context must be resolved (>= 1) before building: "
              + config);
    }
    List<Layer> layers = new ArrayList<>();
    if (config.isGpt()) {
      GptEmbedding emb =
          new GptEmbedding(
              backend, config.vocab(), config.context(), config.width(), config.dropout());
      layers.add(emb);
      for (int i = 0; i < config.layers(); i++) {
        layers.add(new GptBlock(backend, i, config.width(), config.heads(), config.dropout()));
      }
      layers.add(new GptHead(backend, config.width(), emb.tokenTable()));
    } else {
      int in = config.inputs();
      int i = 0;
      for (int h : config.hidden()) {
        layers.add(new Linear(backend, "layers." + i, in, h));
        layers.add(new Activation(backend, Activation.Kind.RELU));
        if (config.dropout() > 0) {
          layers.add(new Dropout(backend, config.dropout(), 10 + i));
        }
        in = h;
        i++;
      }
      layers.add(new Linear(backend, "layers." + i, in, config.vocab()));
    }
    Model model = new Model(config, layers);
    model.initialise(seed);
    return model;
  }

  private void initialise(long seed) {
    Random rnd = new Random(seed);
    for (Parameter p : parameters()) {
      String n = p.name();
      float[] d = p.value().data();
      if (config.isGpt()) {
        if (n.endsWith(".bias") || n.contains("ln_")) {
          continue; // zeros, LayerNorm weights already 1
        }
        double std = 0.02;
        if (n.endsWith("c_proj.weight")) {
          std = 0.02 / Math.sqrt(2.0 * config.layers());
        }
        for (int i = 0; i < p.size(); i++) {
          d[i] = (float) (rnd.nextGaussian() * std);
        }
      } else if (n.endsWith(".weight")) {
        // Kaiming-uniform bound like torch.nn.Linear: 1/sqrt(fan_in)
        double bound = 1.0 / Math.sqrt(p.value().dim(0));
        for (int i = 0; i < p.size(); i++) {
          d[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
      }
    }
  }

  /** The architecture. */
  public ModelConfig config() {
    return config;
  }

  /** Number of layers that stages can be cut between. */
  public int layerCount() {
    return layers.size();
  }

  /** The whole model as a single stage. */
  public Stage whole() {
    return whole;
  }

  /** Layers {@code [from, to)} as a stage. */
  public Stage slice(int from, int to) {
    if (from < 0 || to > layers.size() || from >= to) {
      throw new IllegalArgumentException(
          "stage layers [" + from + ", " + to + ") outside [0, " + layers.size() + ")");
    }
    return new Stage(layers.subList(from, to), from);
  }

  /** Stage {@code k} of {@code n} with layers split as evenly as possible. */
  public Stage stage(int k, int n) {
    if (n < 1 || n > layers.size() || k < 0 || k >= n) {
      throw new IllegalArgumentException(
          "stage " + k + " of " + n + " is invalid for a model with " + layers.size() + " layers");
    }
    int from = (int) ((long) layers.size() * k / n);
    int to = (int) ((long) layers.size() * (k + 1) / n);
    return slice(from, to);
  }

  /** Forward through the whole model. */
  public Tensor forward(Tensor input, ForwardContext ctx) {
    return whole.forward(input, ctx);
  }

  /** Backward through the whole model. */
  public Tensor backward(Tensor gradOutput) {
    return whole.backward(gradOutput);
  }

  /** All parameters, each once, in a fixed order. */
  public List<Parameter> parameters() {
    return whole.parameters();
  }

  /** Parameters by name. */
  public Map<String, Parameter> parameterMap() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    for (Parameter p : parameters()) {
      m.put(p.name(), p);
    }
    return m;
  }

  /** Total number of scalar parameters. */
  public long parameterCount() {
    long n = 0;
    for (Parameter p : parameters()) {
      n += p.size();
    }
    return n;
  }

  /** Zeroes all gradients. */
  public void zeroGrad() {
    whole.zeroGrad();
  }
}
