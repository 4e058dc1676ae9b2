package io.flotilla.protocol.job;

import io.flotilla.protocol.job.SpecReader.Fields;
import io.flotilla.protocol.job.SpecReader.Mapping;
import io.flotilla.protocol.job.SpecReader.Scalar;
import io.flotilla.protocol.job.SpecReader.Sequence;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Parses and validates job specs written in YAML or JSON (JSON is read as YAML flow syntax).
 *
 * <p>Validation never stops at the first problem: {@link InvalidJobSpecException#errors()} lists
 * every error with its field path and what is allowed, then cross-field rules run over the fields
 * that were valid on their own. Unknown fields are errors. See {@code docs/job-spec.md}.
 */
public final class JobSpecParser {

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final String SERVER_SET =
      "is set by the server from the submitter's credentials; remove it from the spec";

  private JobSpecParser() {}

  /** Reads and parses the file at {@code path}. */
  public static JobSpec parse(Path path) throws IOException {
    return parse(Files.readString(path, StandardCharsets.UTF_8));
  }

  /**
   * Parses {@code text}.
   *
   * @throws InvalidJobSpecException listing every error when the spec is invalid
   */
  public static JobSpec parse(String text) {
    SpecReader reader = new SpecReader();
    Object root = reader.parseDocument(text);
    if (!reader.errors.isEmpty()) {
      throw new InvalidJobSpecException(reader.errors);
    }
    if (!(root instanceof Mapping mapping)) {
      reader.error(
          "",
          "expected a mapping with name, model, dataset, training; got "
              + SpecReader.describe(root),
          SpecReader.lineOf(root));
      throw new InvalidJobSpecException(reader.errors);
    }
    JobSpec spec = new JobSpecParser.Run(reader).job(reader.new Fields("", mapping));
    if (!reader.errors.isEmpty()) {
      List<SpecError> sorted = new ArrayList<>(reader.errors);
      sorted.sort(Comparator.comparingInt(SpecError::line));
      throw new InvalidJobSpecException(sorted);
    }
    return spec;
  }

  /**
   * Checks a spec that did not come through {@link #parse(String)} (for example one received as a
   * control message) against the same rules, through its canonical form.
   *
   * @return every error, empty when the spec is valid
   */
  public static List<SpecError> validate(JobSpec spec) {
    try {
      parse(JobSpecWriter.toYaml(spec));
      return List.of();
    } catch (InvalidJobSpecException e) {
      return e.errors();
    }
  }

  /** One parse: fields are read, then cross-field rules checked. */
  private static final class Run {
    private final SpecReader r;

    Run(SpecReader r) {
      this.r = r;
    }

    JobSpec job(Fields f) {
      String name =
          f.string("name", "", true, "a name of 1..63 lower-case letters, digits and '-'");
      if (f.has("name") && r.clean("name") && !NAME.matcher(name).matches()) {
        f.fail(
            "name",
            "must be 1..63 lower-case letters, digits and '-', starting and ending with a letter"
                + " or digit; got \""
                + name
                + "\"");
      }
      String description = f.string("description", "", false, "free text");
      f.reserve("team", "team " + SERVER_SET);
      f.reserve("owner", "owner " + SERVER_SET);
      f.reserve("id", "id " + SERVER_SET);
      Fields mf = f.child("model", true, "type gpt or mlp with its sizes");
      ModelSpec model = mf == null ? null : model(mf);
      Fields df = f.child("dataset", true, "type addition, text, tokens or idx with its source");
      DatasetSpec dataset = df == null ? null : dataset(df);
      Fields tf = f.child("training", true, "steps, global_batch, optimizer, ...");
      TrainingSpec training = tf == null ? null : training(tf);
      Fields pf = f.child("parallelism", false, "pipeline_stages, replicas, schedule, ...");
      ParallelismSpec parallelism =
          parallelism(pf == null ? r.new Fields("parallelism", null) : pf);
      Fields vf =
          f.child(
              "verification", false, "redundancy, tolerance, absolute_tolerance, spot_check_rate");
      VerificationSpec verification =
          verification(vf == null ? r.new Fields("verification", null) : vf);
      Fields payf = f.child("payment", false, "unit, price, budget, currency");
      PaymentSpec payment = payf == null ? PaymentSpec.NONE : payment(payf);
      Fields cf = f.child("checkpoint", false, "interval_steps, keep_last");
      CheckpointSpec checkpoint = checkpoint(cf == null ? r.new Fields("checkpoint", null) : cf);
      f.finish();
      if (model == null || dataset == null || training == null) {
        return null;
      }
      crossCheck(model, dataset, training, parallelism);
      if (!r.errors.isEmpty()) {
        return null;
      }
      return new JobSpec(
          name,
          description,
          model,
          dataset,
          training,
          parallelism,
          verification,
          payment,
          checkpoint);
    }

    ModelSpec model(Fields f) {
      String type = f.choice("type", null, List.of("gpt", "mlp"));
      ModelSpec result = null;
      double dropout = f.number("dropout", 0.0, false, 0.0, false, 0.9);
      String initFrom = f.string("init_from", "", false, "a checkpoint directory or file");
      if ("gpt".equals(type)) {
        int layers = (int) f.integer("layers", 0, true, 1, 1024);
        int width = (int) f.integer("width", 0, true, 1, 65536);
        int heads = (int) f.integer("heads", 0, true, 1, 1024);
        int context = (int) f.integer("context", 0, true, 1, 1 << 20);
        int vocab = (int) f.integer("vocab_size", 0, false, 2, 1 << 24);
        if (r.clean(f.at("width"), f.at("heads")) && width % heads != 0) {
          f.fail(
              "heads",
              "must divide model.width ("
                  + width
                  + ") so each head gets width/heads dimensions; got "
                  + heads);
        }
        result = new GptModelSpec(layers, width, heads, context, vocab, dropout, initFrom);
      } else if ("mlp".equals(type)) {
        int input = (int) f.integer("input_size", 784, false, 1, 1 << 24);
        int classes = (int) f.integer("num_classes", 10, false, 2, 1 << 20);
        Sequence hidden = f.list("hidden_sizes", true, "a list of layer widths, e.g. [256, 128]");
        List<Integer> sizes = new ArrayList<>();
        if (hidden != null) {
          if (hidden.items().isEmpty() || hidden.items().size() > 256) {
            f.fail("hidden_sizes", "must list 1..256 layer widths, e.g. [256, 128]");
          }
          for (int i = 0; i < hidden.items().size(); i++) {
            Object item = hidden.items().get(i);
            String path = f.at("hidden_sizes") + "[" + i + "]";
            if (item instanceof Scalar s
                && s.plain()
                && s.text().matches("[0-9]{1,7}")
                && Integer.parseInt(s.text()) >= 1
                && Integer.parseInt(s.text()) <= 1 << 20) {
              sizes.add(Integer.parseInt(s.text()));
            } else {
              r.error(
                  path,
                  "expected an integer in 1..1048576, got " + SpecReader.describe(item),
                  SpecReader.lineOf(item));
            }
          }
        }
        result = new MlpModelSpec(input, sizes, classes, dropout, initFrom);
      } else {
        // The type is missing or wrong: accept every type's fields, so the only error is the type.
        for (String key :
            List.of(
                "layers",
                "width",
                "heads",
                "context",
                "vocab_size",
                "input_size",
                "hidden_sizes",
                "num_classes")) {
          f.has(key);
        }
      }
      f.finish();
      return result;
    }

    DatasetSpec dataset(Fields f) {
      String type = f.choice("type", null, List.of("addition", "text", "tokens", "idx"));
      if (type == null) {
        f.has("source");
        f.has("options");
        f.finish();
        return null;
      }
      DatasetType dt = DatasetType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
      String source = "";
      if (dt == DatasetType.ADDITION) {
        if (f.has("source")) {
          f.fail("source", "not allowed for dataset type addition (its examples are generated)");
        }
      } else {
        source =
            f.string(
                "source",
                "",
                true,
                dt == DatasetType.IDX
                    ? "a directory holding the IDX image and label files"
                    : "a file path");
        if (source.isBlank() && r.clean(f.at("source"))) {
          f.fail("source", "must not be blank");
        }
      }
      Map<String, String> options = new LinkedHashMap<>();
      Fields of = f.child("options", false, "reader options for dataset type " + type);
      Fields o = of == null ? r.new Fields(f.at("options"), null) : of;
      switch (dt) {
        case ADDITION -> {
          options.put("digits", Long.toString(o.integer("digits", 3, false, 1, 9)));
          options.put(
              "train_examples",
              Long.toString(o.integer("train_examples", 100_000, false, 1, 100_000_000)));
          options.put(
              "eval_examples",
              Long.toString(o.integer("eval_examples", 1000, false, 1, 1_000_000)));
        }
        case TEXT ->
            options.put(
                "eval_fraction",
                SpecReader.fmt(o.number("eval_fraction", 0.1, false, 0.0, false, 0.5)));
        case TOKENS -> {
          String eval = o.string("eval_source", "", false, "a token file for evaluation");
          if (!eval.isEmpty()) {
            options.put("eval_source", eval);
          }
          options.put(
              "eval_fraction",
              SpecReader.fmt(o.number("eval_fraction", 0.1, false, 0.0, false, 0.5)));
        }
        case IDX -> {
          options.put(
              "train_prefix", o.string("train_prefix", "train", false, "a file name prefix"));
          options.put("eval_prefix", o.string("eval_prefix", "t10k", false, "a file name prefix"));
        }
      }
      o.finish();
      f.finish();
      return new DatasetSpec(dt, source, options);
    }

    TrainingSpec training(Fields f) {
      long steps = f.integer("steps", 0, true, 1, 100_000_000);
      int globalBatch = (int) f.integer("global_batch", 0, true, 1, 1 << 24);
      int micro = (int) f.integer("micro_batches", 1, false, 1, 4096);
      long seed = f.integer("seed", 0, false, 0, Long.MAX_VALUE);
      long evalInterval = f.integer("eval_interval_steps", 0, false, 0, 100_000_000);
      Fields of = f.child("optimizer", false, "type adamw with lr, betas, eps, ...");
      Fields o = of == null ? r.new Fields(f.at("optimizer"), null) : of;
      String type = o.choice("type", "adamw", List.of("adamw"));
      double lr = o.number("lr", 1e-3, false, 0.0, true, 10.0);
      double beta1 = 0.9;
      double beta2 = 0.999;
      Sequence betas = o.list("betas", false, "two numbers in [0, 1), e.g. [0.9, 0.95]");
      if (betas != null) {
        if (betas.items().size() != 2) {
          o.fail("betas", "must hold exactly two numbers in [0, 1); got " + betas.items().size());
        } else {
          double[] values = new double[2];
          for (int i = 0; i < 2; i++) {
            Object item = betas.items().get(i);
            String text = item instanceof Scalar s && s.plain() ? s.text() : null;
            double v = Double.NaN;
            if (text != null && text.matches("[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?")) {
              v = Double.parseDouble(text);
            }
            if (!(v >= 0 && v < 1)) {
              r.error(
                  o.at("betas") + "[" + i + "]",
                  "expected a number >= 0 and < 1, got " + SpecReader.describe(item),
                  SpecReader.lineOf(item));
            }
            values[i] = v;
          }
          beta1 = values[0];
          beta2 = values[1];
        }
      }
      double eps = o.number("eps", 1e-8, false, 0.0, true, 1.0);
      double wd = o.number("weight_decay", 0.0, false, 0.0, false, 10.0);
      double clip = o.number("grad_clip", 1.0, false, 0.0, false, 1e6);
      o.finish();
      Fields sf = f.child("schedule", false, "type cosine or constant, warmup_steps, min_lr_ratio");
      Fields s = sf == null ? r.new Fields(f.at("schedule"), null) : sf;
      String sched = s.choice("type", "cosine", List.of("cosine", "constant"));
      long warmup = s.integer("warmup_steps", 0, false, 0, 100_000_000);
      double minRatio = s.number("min_lr_ratio", 0.1, false, 0.0, false, 1.0);
      if ("constant".equals(sched) && s.entries.containsKey("min_lr_ratio")) {
        s.fail("min_lr_ratio", "only applies to schedule type cosine");
      }
      s.finish();
      f.finish();
      if (r.clean(f.at("steps"), s.at("warmup_steps")) && warmup > steps) {
        s.fail("warmup_steps", "must be at most training.steps (" + steps + "); got " + warmup);
      }
      return new TrainingSpec(
          steps,
          globalBatch,
          micro,
          seed,
          evalInterval,
          new OptimizerSpec(type == null ? "adamw" : type, lr, beta1, beta2, eps, wd, clip),
          new LrScheduleSpec(sched == null ? "cosine" : sched, warmup, minRatio));
    }

    ParallelismSpec parallelism(Fields f) {
      int stages = (int) f.integer("pipeline_stages", 1, false, 1, 256);
      int replicas = (int) f.integer("replicas", 1, false, 1, 4096);
      String schedule = f.choice("schedule", "1f1b", List.of("gpipe", "1f1b"));
      String sync = f.choice("gradient_sync", "allreduce", List.of("allreduce", "diloco"));
      DilocoSpec diloco = DilocoSpec.DEFAULT;
      Fields df = f.child("diloco", false, "inner_steps, outer_lr, outer_momentum");
      if (df != null) {
        if (!"diloco".equals(sync) && r.clean(f.at("gradient_sync"))) {
          f.fail("diloco", "only allowed with gradient_sync: diloco");
        }
        diloco =
            new DilocoSpec(
                (int) df.integer("inner_steps", 500, false, 1, 1_000_000),
                df.number("outer_lr", 0.7, false, 0.0, true, 10.0),
                df.number("outer_momentum", 0.9, false, 0.0, false, 0.999));
        df.finish();
      }
      if ("diloco".equals(sync) && r.clean(f.at("replicas")) && replicas < 2) {
        f.fail(
            "gradient_sync",
            "diloco averages across replicas and needs parallelism.replicas >= 2; got " + replicas);
      }
      f.finish();
      return new ParallelismSpec(
          stages,
          replicas,
          "gpipe".equals(schedule) ? PipelineSchedule.GPIPE : PipelineSchedule.ONE_F_ONE_B,
          "diloco".equals(sync) ? GradientSync.DILOCO : GradientSync.ALLREDUCE,
          diloco);
    }

    VerificationSpec verification(Fields f) {
      Object raw = f.raw("redundancy");
      RedundancyMode mode = RedundancyMode.NONE;
      int factor = 1;
      String allowed = "none, adaptive, or an integer factor 2..5";
      if (raw instanceof Scalar s && s.plain() && s.text().matches("[0-9]+")) {
        long v = Long.parseLong(s.text().length() > 9 ? "999999999" : s.text());
        if (v == 1) {
          mode = RedundancyMode.NONE;
        } else if (v >= 2 && v <= 5) {
          mode = RedundancyMode.FIXED;
          factor = (int) v;
        } else {
          f.fail("redundancy", "must be " + allowed + "; got " + s.text());
        }
      } else if (raw instanceof Scalar s && s.text().equals("none")) {
        mode = RedundancyMode.NONE;
      } else if (raw instanceof Scalar s && s.text().equals("adaptive")) {
        mode = RedundancyMode.ADAPTIVE;
        factor = 2;
      } else if (raw != null) {
        String got =
            raw instanceof Scalar s && !s.plain()
                ? "string \"" + s.text() + "\""
                : SpecReader.describe(raw);
        String hint =
            raw instanceof Scalar s
                ? SpecReader.suggestion(s.text(), List.of("none", "adaptive"))
                : "";
        f.fail("redundancy", "must be " + allowed + "; got " + got + hint);
      }
      double tolerance = f.number("tolerance", 1e-4, false, 0.0, false, 1.0);
      double absoluteTolerance =
          f.number(
              "absolute_tolerance",
              VerificationSpec.DEFAULT_ABSOLUTE_TOLERANCE,
              false,
              0.0,
              false,
              1.0);
      double spot =
          f.number(
              "spot_check_rate",
              mode == RedundancyMode.ADAPTIVE ? 0.05 : 0.0,
              false,
              0.0,
              false,
              1.0);
      if (mode == RedundancyMode.FIXED
          && f.entries.containsKey("spot_check_rate")
          && r.clean(f.at("spot_check_rate"))
          && spot > 0) {
        f.fail(
            "spot_check_rate",
            "only applies to redundancy none or adaptive (fixed redundancy checks every task)");
      }
      f.finish();
      return new VerificationSpec(mode, factor, tolerance, spot, absoluteTolerance);
    }

    PaymentSpec payment(Fields f) {
      String unit = f.choice("unit", null, List.of("per-gflop", "per-task"));
      String decimal = "a decimal number > 0, e.g. 0.002";
      BigDecimal price = f.decimal("price", true, decimal);
      BigDecimal budget = f.decimal("budget", true, decimal);
      String currency = f.string("currency", "", true, "a token or currency symbol, e.g. ETH");
      if (f.has("currency")
          && r.clean(f.at("currency"))
          && !currency.matches("[A-Za-z][A-Za-z0-9_-]{0,15}")) {
        f.fail(
            "currency",
            "must be 1..16 letters, digits, '_' or '-', starting with a letter; got \""
                + currency
                + "\"");
      }
      if (price != null && budget != null && budget.compareTo(price) < 0) {
        f.fail(
            "budget",
            "must be at least payment.price ("
                + price.toPlainString()
                + ") or no work can be paid; got "
                + budget.toPlainString());
      }
      f.finish();
      if (unit == null || price == null || budget == null) {
        return PaymentSpec.NONE;
      }
      return new PaymentSpec(
          unit.equals("per-gflop") ? PricingUnit.PER_GFLOP : PricingUnit.PER_TASK,
          price,
          budget,
          currency);
    }

    CheckpointSpec checkpoint(Fields f) {
      long interval = f.integer("interval_steps", 1000, false, 1, 100_000_000);
      int keep = (int) f.integer("keep_last", 3, false, 0, 10_000);
      f.finish();
      return new CheckpointSpec(interval, keep);
    }

    void crossCheck(
        ModelSpec model, DatasetSpec dataset, TrainingSpec training, ParallelismSpec parallelism) {
      if (r.clean("training.global_batch", "training.micro_batches", "parallelism.replicas")) {
        int divisor = parallelism.replicas() * training.microBatches();
        int batch = training.globalBatch();
        if (batch % divisor != 0) {
          int lower = batch / divisor * divisor;
          r.error(
              "training.global_batch",
              "must be divisible by parallelism.replicas x training.micro_batches = "
                  + parallelism.replicas()
                  + " x "
                  + training.microBatches()
                  + " = "
                  + divisor
                  + "; got "
                  + batch
                  + " (nearest: "
                  + (lower > 0 ? lower + " or " : "")
                  + (lower + divisor)
                  + ")",
              0);
        }
      }
      if (r.clean("model", "parallelism.pipeline_stages")) {
        int units = ModelLayers.count(model);
        if (parallelism.pipelineStages() > units) {
          r.error(
              "parallelism.pipeline_stages",
              "must be at most "
                  + units
                  + ", the number of layers the model can be cut between ("
                  + ModelLayers.describe(model)
                  + "); got "
                  + parallelism.pipelineStages(),
              0);
        }
      }
      if (parallelism.gradientSync() == GradientSync.DILOCO
          && r.clean("training.steps", "parallelism.diloco")
          && parallelism.diloco().innerSteps() > training.steps()) {
        r.error(
            "parallelism.diloco.inner_steps",
            "must be at most training.steps ("
                + training.steps()
                + "); got "
                + parallelism.diloco().innerSteps(),
            0);
      }
      if (r.clean("model.type", "dataset.type")) {
        boolean images = dataset.type() == DatasetType.IDX;
        if (images && !(model instanceof MlpModelSpec)) {
          r.error("model.type", "dataset type idx needs model type mlp; got gpt", 0);
        } else if (!images && !(model instanceof GptModelSpec)) {
          r.error(
              "model.type",
              "dataset type " + dataset.type().specName() + " needs model type gpt; got mlp",
              0);
        }
      }
      if (model instanceof GptModelSpec gpt && r.clean("model", "dataset")) {
        if (dataset.type() == DatasetType.TOKENS && gpt.vocabSize() == 0) {
          r.error(
              "model.vocab_size",
              "required for dataset type tokens; an integer in 2..16777216 above the largest"
                  + " token id",
              0);
        }
        if (dataset.type() == DatasetType.ADDITION) {
          long digits = dataset.longOption("digits", 3);
          long needed = 3 * digits + 3;
          if (gpt.context() < needed) {
            r.error(
                "model.context",
                "must be at least 3 x dataset.options.digits + 3 = "
                    + needed
                    + " to hold one addition example; got "
                    + gpt.context(),
                0);
          }
        }
      }
    }
  }
}
