package io.flotilla.engine.train;

import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.optim.OptimizerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads a local training job from YAML with sections {@code model}, {@code dataset} and {@code
 * training} (see docs/engine.md). Unknown keys are errors naming their path.
 */
public final class JobFiles {
  private JobFiles() {}

  /** Parses a job file. */
  public static JobConfig read(Path file) throws IOException {
    String text = Files.readString(file);
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file + " is not valid YAML: " + e.getMessage(), e);
    }
    return parse(map(root, "(root)"));
  }

  /** Builds a job from the parsed YAML tree. */
  public static JobConfig parse(Map<String, Object> root) {
    allow(root, "", Set.of("name", "model", "dataset", "training"));
    Map<String, Object> m = map(root.get("model"), "model");
    allow(
        m,
        "model.",
        Set.of(
            "type",
            "layers",
            "width",
            "heads",
            "context",
            "vocab",
            "inputs",
            "hidden",
            "dropout",
            "init_from"));
    List<Integer> hidden = new ArrayList<>();
    if (m.get("hidden") instanceof List<?> l) {
      for (Object o : l) {
        hidden.add(toInt(o, "model.hidden[]"));
      }
    } else if (m.get("hidden") != null) {
      throw new IllegalArgumentException("model.hidden must be a list of sizes");
    }
    ModelConfig model =
        new ModelConfig(
            str(m, "type", "model.", "gpt"),
            integer(m, "layers", "model.", 0),
            integer(m, "width", "model.", 0),
            integer(m, "heads", "model.", 0),
            integer(m, "context", "model.", 0),
            integer(m, "vocab", "model.", 0),
            integer(m, "inputs", "model.", 0),
            hidden,
            (float) number(m, "dropout", "model.", 0));
    Map<String, Object> d = map(root.get("dataset"), "dataset");
    allow(d, "dataset.", Set.of("type", "source", "options"));
    Map<String, String> options = new LinkedHashMap<>();
    if (d.get("options") != null) {
      map(d.get("options"), "dataset.options").forEach((k, v) -> options.put(k, String.valueOf(v)));
    }
    DatasetConfig dataset =
        new DatasetConfig(
            str(d, "type", "dataset.", null), str(d, "source", "dataset.", null), options);
    Map<String, Object> t = map(root.get("training"), "training");
    allow(
        t,
        "training.",
        Set.of(
            "steps",
            "global_batch",
            "micro_batches",
            "seed",
            "optimizer",
            "schedule",
            "checkpoint_interval",
            "eval_interval"));
    Map<String, Object> o =
        t.get("optimizer") == null ? Map.of() : map(t.get("optimizer"), "training.optimizer");
    allow(o, "training.optimizer.", Set.of("lr", "betas", "eps", "weight_decay", "grad_clip"));
    OptimizerConfig def = OptimizerConfig.defaults();
    float beta1 = def.beta1();
    float beta2 = def.beta2();
    if (o.get("betas") instanceof List<?> b && b.size() == 2) {
      beta1 = (float) toDouble(b.get(0), "training.optimizer.betas[0]");
      beta2 = (float) toDouble(b.get(1), "training.optimizer.betas[1]");
    } else if (o.get("betas") != null) {
      throw new IllegalArgumentException("training.optimizer.betas must be a list of two numbers");
    }
    OptimizerConfig opt =
        new OptimizerConfig(
            (float) number(o, "lr", "training.optimizer.", def.lr()),
            beta1,
            beta2,
            (float) number(o, "eps", "training.optimizer.", def.eps()),
            (float) number(o, "weight_decay", "training.optimizer.", def.weightDecay()),
            (float) number(o, "grad_clip", "training.optimizer.", def.gradClip()));
    Map<String, Object> s =
        t.get("schedule") == null ? Map.of() : map(t.get("schedule"), "training.schedule");
    allow(s, "training.schedule.", Set.of("warmup_steps", "min_lr"));
    TrainingConfig training =
        new TrainingConfig(
            integer(t, "steps", "training.", 1000),
            integer(t, "global_batch", "training.", 32),
            integer(t, "micro_batches", "training.", 1),
            integer(t, "seed", "training.", 1),
            opt,
            integer(s, "warmup_steps", "training.schedule.", 0),
            (float) number(s, "min_lr", "training.schedule.", opt.lr() / 10),
            integer(t, "checkpoint_interval", "training.", 0),
            integer(t, "eval_interval", "training.", 0));
    return new JobConfig(model, str(m, "init_from", "model.", null), dataset, training);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String path) {
    if (!(o instanceof Map<?, ?>)) {
      throw new IllegalArgumentException(path + " must be a mapping");
    }
    return (Map<String, Object>) o;
  }

  private static void allow(Map<String, Object> m, String prefix, Set<String> allowed) {
    for (String k : m.keySet()) {
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException(
            "unknown field " + prefix + k + "; allowed: " + new java.util.TreeSet<>(allowed));
      }
    }
  }

  private static String str(Map<String, Object> m, String key, String prefix, String fallback) {
    Object v = m.get(key);
    return v == null ? fallback : String.valueOf(v);
  }

  private static int integer(Map<String, Object> m, String key, String prefix, int fallback) {
    Object v = m.get(key);
    return v == null ? fallback : toInt(v, prefix + key);
  }

  private static double number(Map<String, Object> m, String key, String prefix, double fallback) {
    Object v = m.get(key);
    return v == null ? fallback : toDouble(v, prefix + key);
  }

  private static int toInt(Object v, String path) {
    if (v instanceof Integer i) {
      return i;
    }
    throw new IllegalArgumentException(path + " must be an integer, got " + v);
  }

  private static double toDouble(Object v, String path) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      try {
        return Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(path + " must be a number, got " + v, e);
      }
    }
    throw new IllegalArgumentException(path + " must be a number, got " + v);
  }
}
