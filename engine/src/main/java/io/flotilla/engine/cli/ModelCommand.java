package io.flotilla.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.checkpoint.Checkpoints;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.train.DatasetConfig;
import io.flotilla.engine.train.Datasets;
import io.flotilla.engine.train.Evaluator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code model eval} and {@code model export}. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = "Evaluate or export a trained model.",
    subcommands = {ModelCommand.Eval.class, ModelCommand.Export.class})
public final class ModelCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("error: choose a subcommand: eval or export (see --help)");
    return 2;
  }

  /** Prints mean held-out loss and accuracy. */
  @Command(
      name = "eval",
      mixinStandardHelpOptions = true,
      description = "Mean held-out loss (and exact-match accuracy where the task has one).")
  public static final class Eval implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "checkpoint or HF GPT-2 dir")
    Path checkpoint;

    @Option(
        names = "--data",
        required = true,
        description = "dataset: addition[:DIGITS], text:FILE, tokens:FILE_OR_DIR or idx:DIR")
    String data;

    @Option(
        names = "--samples",
        defaultValue = "1000",
        description = "held-out samples (addition: sums; text/tokens: windows; idx: images)")
    int samples;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
      try (CpuBackend backend = CpuBackend.withAllCores()) {
        Model model;
        Dataset dataset;
        try {
          model = Checkpoints.loadModel(backend, checkpoint);
          dataset =
              Datasets.open(
                  parseData(data, samples),
                  model.config().context(),
                  model.config().isGpt() ? model.config().vocab() : 0,
                  samples);
        } catch (IllegalArgumentException e) {
          System.err.println("error: " + e.getMessage());
          return 2;
        }
        Evaluator.Result r = Evaluator.evaluate(backend, model, dataset, 64);
        if (json) {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("loss", r.loss());
          out.put("accuracy", Double.isNaN(r.accuracy()) ? null : r.accuracy());
          out.put("samples", r.samples());
          System.out.println(new ObjectMapper().writeValueAsString(out));
        } else {
          System.out.printf(Locale.ROOT, "loss %.4f%n", r.loss());
          if (!Double.isNaN(r.accuracy())) {
            System.out.printf(Locale.ROOT, "accuracy %.2f%%%n", 100 * r.accuracy());
          }
          System.out.println("samples " + r.samples());
        }
        return 0;
      }
    }
  }

  /** Parses {@code type[:source]}. */
  static DatasetConfig parseData(String spec, int samples) {
    int colon = spec.indexOf(':');
    String type = colon < 0 ? spec : spec.substring(0, colon);
    String rest = colon < 0 ? null : spec.substring(colon + 1);
    Map<String, String> options = new LinkedHashMap<>();
    if (type.equals("addition")) {
      options.put("eval_examples", Integer.toString(samples));
      if (rest != null) {
        options.put("digits", rest);
      }
      return new DatasetConfig(type, null, options);
    }
    return new DatasetConfig(type, rest, options);
  }

  /** Writes a Hugging Face-loadable directory. */
  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description =
          "Write config.json + model.safetensors, loadable by"
              + " transformers.GPT2LMHeadModel.from_pretrained (GPT models).")
  public static final class Export implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "checkpoint directory")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Override
    public Integer call() throws Exception {
      try (CpuBackend backend = new CpuBackend(1)) {
        Model model;
        try {
          model = Checkpoints.loadModel(backend, checkpoint);
        } catch (IllegalArgumentException e) {
          System.err.println("error: " + e.getMessage());
          return 2;
        }
        Checkpoints.exportModel(model, out);
        System.out.println("exported " + model.parameterCount() + " parameters to " + out);
        return 0;
      }
    }
  }
}
