package io.flotilla.protocol.job;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@link JobSpec} back as canonical YAML or JSON: every field, defaults filled in, in the
 * documented order. Parsing the output gives an equal spec. The HTTP API shows specs this way.
 */
public final class JobSpecWriter {
  private JobSpecWriter() {}

  /** The spec as nested ordered maps of strings, numbers, booleans and lists. */
  public static Map<String, Object> toTree(JobSpec spec) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("name", spec.name());
    if (!spec.description().isEmpty()) {
      root.put("description", spec.description());
    }
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", spec.model().type());
    switch (spec.model()) {
      case GptModelSpec g -> {
        model.put("layers", g.layers());
        model.put("width", g.width());
        model.put("heads", g.heads());
        model.put("context", g.context());
        if (g.vocabSize() > 0) {
          model.put("vocab_size", g.vocabSize());
        }
      }
      case MlpModelSpec m -> {
        model.put("input_size", m.inputSize());
        model.put("hidden_sizes", m.hiddenSizes());
        model.put("num_classes", m.numClasses());
      }
    }
    model.put("dropout", spec.model().dropout());
    if (!spec.model().initFrom().isEmpty()) {
      model.put("init_from", spec.model().initFrom());
    }
    root.put("model", model);

    Map<String, Object> dataset = new LinkedHashMap<>();
    dataset.put("type", spec.dataset().type().specName());
    if (!spec.dataset().source().isEmpty()) {
      dataset.put("source", spec.dataset().source());
    }
    Map<String, Object> options = new LinkedHashMap<>();
    spec.dataset().options().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> options.put(e.getKey(), optionValue(e.getValue())));
    dataset.put("options", options);
    root.put("dataset", dataset);

    TrainingSpec t = spec.training();
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("steps", t.steps());
    training.put("global_batch", t.globalBatch());
    training.put("micro_batches", t.microBatches());
    training.put("seed", t.seed());
    training.put("eval_interval_steps", t.evalIntervalSteps());
    Map<String, Object> optimizer = new LinkedHashMap<>();
    optimizer.put("type", t.optimizer().type());
    optimizer.put("lr", t.optimizer().lr());
    optimizer.put("betas", List.of(t.optimizer().beta1(), t.optimizer().beta2()));
    optimizer.put("eps", t.optimizer().eps());
    optimizer.put("weight_decay", t.optimizer().weightDecay());
    optimizer.put("grad_clip", t.optimizer().gradClip());
    training.put("optimizer", optimizer);
    Map<String, Object> schedule = new LinkedHashMap<>();
    schedule.put("type", t.schedule().type());
    schedule.put("warmup_steps", t.schedule().warmupSteps());
    if (t.schedule().type().equals("cosine")) {
      schedule.put("min_lr_ratio", t.schedule().minLrRatio());
    }
    training.put("schedule", schedule);
    root.put("training", training);

    ParallelismSpec p = spec.parallelism();
    Map<String, Object> parallelism = new LinkedHashMap<>();
    parallelism.put("pipeline_stages", p.pipelineStages());
    parallelism.put("replicas", p.replicas());
    parallelism.put("schedule", p.schedule().specName());
    parallelism.put("gradient_sync", p.gradientSync().specName());
    if (p.gradientSync() == GradientSync.DILOCO) {
      Map<String, Object> diloco = new LinkedHashMap<>();
      diloco.put("inner_steps", p.diloco().innerSteps());
      diloco.put("outer_lr", p.diloco().outerLr());
      diloco.put("outer_momentum", p.diloco().outerMomentum());
      parallelism.put("diloco", diloco);
    }
    root.put("parallelism", parallelism);

    VerificationSpec v = spec.verification();
    Map<String, Object> verification = new LinkedHashMap<>();
    verification.put(
        "redundancy",
        switch (v.redundancy()) {
          case NONE -> "none";
          case ADAPTIVE -> "adaptive";
          case FIXED -> v.factor();
        });
    verification.put("tolerance", v.tolerance());
    verification.put("absolute_tolerance", v.absoluteTolerance());
    if (v.redundancy() != RedundancyMode.FIXED) {
      verification.put("spot_check_rate", v.spotCheckRate());
    }
    root.put("verification", verification);

    if (spec.payment().unit() != PricingUnit.NONE) {
      Map<String, Object> payment = new LinkedHashMap<>();
      payment.put("unit", spec.payment().unit().specName());
      payment.put("price", spec.payment().price());
      payment.put("budget", spec.payment().budget());
      payment.put("currency", spec.payment().currency());
      root.put("payment", payment);
    }
    Map<String, Object> checkpoint = new LinkedHashMap<>();
    checkpoint.put("interval_steps", spec.checkpoint().intervalSteps());
    checkpoint.put("keep_last", spec.checkpoint().keepLast());
    root.put("checkpoint", checkpoint);
    return root;
  }

  private static Object optionValue(String text) {
    if (text.matches("-?[0-9]{1,18}")) {
      return Long.parseLong(text);
    }
    if (text.matches("-?[0-9]+\\.[0-9]+([eE][-+]?[0-9]+)?")) {
      return Double.parseDouble(text);
    }
    return text;
  }

  /** Canonical YAML, two-space indents, lists of scalars in flow style. */
  public static String toYaml(JobSpec spec) {
    StringBuilder out = new StringBuilder();
    yaml(toTree(spec), 0, out);
    return out.toString();
  }

  /** Canonical JSON, pretty-printed with two-space indents. */
  public static String toJson(JobSpec spec) {
    StringBuilder out = new StringBuilder();
    json(toTree(spec), 0, out);
    return out.append('\n').toString();
  }

  @SuppressWarnings("unchecked")
  private static void yaml(Map<String, Object> map, int indent, StringBuilder out) {
    for (Map.Entry<String, Object> e : map.entrySet()) {
      out.append(" ".repeat(indent)).append(e.getKey()).append(':');
      Object value = e.getValue();
      if (value instanceof Map<?, ?> child) {
        if (child.isEmpty()) {
          out.append(" {}\n");
        } else {
          out.append('\n');
          yaml((Map<String, Object>) child, indent + 2, out);
        }
      } else if (value instanceof List<?> list) {
        out.append(" [");
        for (int i = 0; i < list.size(); i++) {
          out.append(i == 0 ? "" : ", ").append(yamlScalar(list.get(i)));
        }
        out.append("]\n");
      } else {
        out.append(' ').append(yamlScalar(value)).append('\n');
      }
    }
  }

  private static final Set<String> YAML_WORDS =
      Set.of("true", "false", "yes", "no", "on", "off", "y", "n", "null", "~");

  private static String yamlScalar(Object value) {
    if (value instanceof String s) {
      if (s.matches("[A-Za-z][A-Za-z0-9_./-]*") && !YAML_WORDS.contains(s.toLowerCase())) {
        return s;
      }
      return jsonString(s);
    }
    return number(value);
  }

  private static String number(Object value) {
    if (value instanceof BigDecimal d) {
      return d.toPlainString();
    }
    if (value instanceof Double d) {
      return d == Math.rint(d) && Math.abs(d) < 1e15
          ? Long.toString(d.longValue()) + ".0"
          : d.toString();
    }
    return String.valueOf(value);
  }

  @SuppressWarnings("unchecked")
  private static void json(Object value, int indent, StringBuilder out) {
    if (value instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        out.append("{}");
        return;
      }
      out.append("{\n");
      int i = 0;
      for (Map.Entry<String, Object> e : ((Map<String, Object>) map).entrySet()) {
        out.append(" ".repeat(indent + 2)).append(jsonString(e.getKey())).append(": ");
        json(e.getValue(), indent + 2, out);
        out.append(++i < map.size() ? ",\n" : "\n");
      }
      out.append(" ".repeat(indent)).append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i == 0 ? "" : ", ");
        json(list.get(i), indent, out);
      }
      out.append(']');
    } else if (value instanceof String s) {
      out.append(jsonString(s));
    } else {
      out.append(number(value));
    }
  }

  private static String jsonString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
