package io.flotilla.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.optim.AdamW;
import io.flotilla.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoint directories.
 *
 * <p>Layout: {@code config.json} (for GPT a Hugging Face {@code GPT2Config}, so the directory loads
 * with {@code GPT2LMHeadModel.from_pretrained}; for MLP a small Flotilla config), {@code
 * model.safetensors} (parameters under their state-dict names), and for training checkpoints {@code
 * optimizer.safetensors} (AdamW moments as {@code exp_avg.NAME} and {@code exp_avg_sq.NAME}) plus
 * {@code training.json} (step, optimizer step count, metadata).
 */
public final class Checkpoints {
  /** Model weights file name. */
  public static final String MODEL_FILE = "model.safetensors";

  /** Model config file name. */
  public static final String CONFIG_FILE = "config.json";

  /** Optimizer moments file name. */
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";

  /** Training state file name. */
  public static final String TRAINING_FILE = "training.json";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Checkpoints() {}

  /** Writes {@code config.json} and {@code model.safetensors} into {@code dir}. */
  public static void exportModel(Model model, Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Parameter p : model.parameters()) {
      tensors.put(p.name(), p.value());
    }
    Safetensors.write(dir.resolve(MODEL_FILE), tensors, Map.of("format", "pt"));
    Files.write(dir.resolve(CONFIG_FILE), JSON.writeValueAsBytes(configJson(model.config())));
  }

  /** Writes a training checkpoint: the model export plus optimizer state and training info. */
  public static void save(
      Model model, AdamW optimizer, int step, Map<String, String> metadata, Path dir)
      throws IOException {
    exportModel(model, dir);
    Map<String, Tensor> moments = new LinkedHashMap<>();
    optimizer.firstMoments().forEach((k, v) -> moments.put("exp_avg." + k, v));
    optimizer.secondMoments().forEach((k, v) -> moments.put("exp_avg_sq." + k, v));
    Safetensors.write(dir.resolve(OPTIMIZER_FILE), moments, Map.of());
    ObjectNode training = JSON.createObjectNode();
    training.put("step", step);
    training.put("optimizer_steps", optimizer.stepCount());
    ObjectNode opt = training.putObject("optimizer");
    opt.put("lr", optimizer.config().lr());
    opt.put("beta1", optimizer.config().beta1());
    opt.put("beta2", optimizer.config().beta2());
    opt.put("eps", optimizer.config().eps());
    opt.put("weight_decay", optimizer.config().weightDecay());
    opt.put("grad_clip", optimizer.config().gradClip());
    ObjectNode meta = training.putObject("metadata");
    if (metadata != null) {
      metadata.forEach(meta::put);
    }
    Files.write(dir.resolve(TRAINING_FILE), JSON.writeValueAsBytes(training));
  }

  /** The JSON config for a model: GPT2Config fields for GPT. */
  static ObjectNode configJson(ModelConfig c) {
    ObjectNode n = JSON.createObjectNode();
    if (c.isGpt()) {
      n.putArray("architectures").add("GPT2LMHeadModel");
      n.put("model_type", "gpt2");
      n.put("vocab_size", c.vocab());
      n.put("n_positions", c.context());
      n.put("n_ctx", c.context());
      n.put("n_embd", c.width());
      n.put("n_layer", c.layers());
      n.put("n_head", c.heads());
      n.putNull("n_inner");
      n.put("activation_function", "gelu_new");
      n.put("resid_pdrop", c.dropout());
      n.put("embd_pdrop", c.dropout());
      n.put("attn_pdrop", 0.0);
      n.put("layer_norm_epsilon", 1e-5);
      n.put("initializer_range", 0.02);
      n.put("bos_token_id", 0);
      n.put("eos_token_id", 0);
      n.put("tie_word_embeddings", true);
      n.put("torch_dtype", "float32");
    } else {
      n.put("model_type", "flotilla-mlp");
      n.put("inputs", c.inputs());
      var h = n.putArray("hidden");
      c.hidden().forEach(h::add);
      n.put("classes", c.vocab());
      n.put("dropout", c.dropout());
    }
    return n;
  }

  /** Reads the model config of a checkpoint or Hugging Face GPT-2 directory. */
  public static ModelConfig readConfig(Path dir) throws IOException {
    Path file = dir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "checkpoint "
              + dir
              + " has no "
              + CONFIG_FILE
              + " (expected a directory written by "
              + "model export, a training checkpoint, or a Hugging Face GPT-2 directory)");
    }
    JsonNode n;
    try {
      n = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    String type = n.path("model_type").asText();
    if (type.equals("gpt2")) {
      String act = n.path("activation_function").asText("gelu_new");
      if (!act.equals("gelu_new")) {
        throw new IllegalArgumentException(
            file + ": activation_function " + act + " is not supported (gelu_new only)");
      }
      int width = n.path("n_embd").asInt();
      JsonNode inner = n.path("n_inner");
      if (!inner.isMissingNode() && !inner.isNull() && inner.asInt() != 4 * width) {
        throw new IllegalArgumentException(file + ": n_inner must be null or 4 * n_embd");
      }
      return ModelConfig.gpt(
          n.path("n_layer").asInt(),
          width,
          n.path("n_head").asInt(),
          n.path("n_positions").asInt(),
          n.path("vocab_size").asInt(),
          (float) n.path("resid_pdrop").asDouble(0));
    }
    if (type.equals("flotilla-mlp")) {
      List<Integer> hidden = new ArrayList<>();
      n.path("hidden").forEach(h -> hidden.add(h.asInt()));
      return ModelConfig.mlp(
          n.path("inputs").asInt(),
          hidden,
          n.path("classes").asInt(),
          (float) n.path("dropout").asDouble(0));
    }
    throw new IllegalArgumentException(
        file + ": model_type " + type + " is not supported (gpt2 or flotilla-mlp)");
  }

  /** Builds a model from a checkpoint directory, loading every parameter. */
  public static Model loadModel(ComputeBackend backend, Path dir) throws IOException {
    Model model = Model.create(backend, readConfig(dir), 0);
    loadWeights(model, dir);
    return model;
  }

  /**
   * Loads parameters into {@code model} by name and shape. Hugging Face files whose keys lack the
   * {@code transformer.} prefix (GPT2Model checkpoints) are accepted; {@code lm_head.weight} and
   * attention-mask buffers are ignored.
   */
  public static void loadWeights(Model model, Path dir) throws IOException {
    Path file = dir.resolve(MODEL_FILE);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("checkpoint " + dir + " has no " + MODEL_FILE);
    }
    Map<String, Tensor> tensors = Safetensors.read(file).tensors();
    for (Parameter p : model.parameters()) {
      Tensor t = tensors.get(p.name());
      if (t == null && p.name().startsWith("transformer.")) {
        t = tensors.get(p.name().substring("transformer.".length()));
      }
      if (t == null) {
        throw new IllegalArgumentException(file + " lacks parameter " + p.name());
      }
      if (!java.util.Arrays.equals(t.shape(), p.value().shape())) {
        throw new IllegalArgumentException(
            file
                + ": parameter "
                + p.name()
                + " has shape "
                + java.util.Arrays.toString(t.shape())
                + ", the model needs "
                + java.util.Arrays.toString(p.value().shape()));
      }
      t.copyTo(p.value());
    }
  }

  /**
   * Restores optimizer moments and step count from a training checkpoint.
   *
   * @return the training step stored in the checkpoint
   */
  public static int loadTrainingState(AdamW optimizer, Path dir) throws IOException {
    Map<String, Tensor> moments = Safetensors.read(dir.resolve(OPTIMIZER_FILE)).tensors();
    restore(moments, "exp_avg.", optimizer.firstMoments(), dir);
    restore(moments, "exp_avg_sq.", optimizer.secondMoments(), dir);
    JsonNode training = JSON.readTree(dir.resolve(TRAINING_FILE).toFile());
    optimizer.setStepCount(training.path("optimizer_steps").asInt());
    return training.path("step").asInt();
  }

  private static void restore(
      Map<String, Tensor> from, String prefix, Map<String, Tensor> into, Path dir) {
    into.forEach(
        (name, t) -> {
          Tensor src = from.get(prefix + name);
          if (src == null || src.size() != t.size()) {
            throw new IllegalArgumentException(
                dir + "/" + OPTIMIZER_FILE + " lacks or mis-sizes " + prefix + name);
          }
          src.copyTo(t);
        });
  }

  /** Whether {@code dir} holds optimizer state for resuming. */
  public static boolean hasTrainingState(Path dir) {
    return Files.isRegularFile(dir.resolve(OPTIMIZER_FILE))
        && Files.isRegularFile(dir.resolve(TRAINING_FILE));
  }
}
