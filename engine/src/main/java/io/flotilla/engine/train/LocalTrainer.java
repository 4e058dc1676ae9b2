package io.flotilla.engine.train;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.checkpoint.Checkpoints;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Trains a {@link JobConfig} in one process: builds or loads the model, runs the steps with a
 * progress line (step, loss, tokens/s, ETA), evaluates on held-out data and writes checkpoints.
 */
public final class LocalTrainer {
  private final ComputeBackend backend;
  private final JobConfig job;
  private final Path outputDir;
  private final PrintStream progress;
  private final LongSupplier nanoClock;

  /**
   * A trainer writing checkpoints under {@code outputDir} (null = none) and progress to {@code
   * progress}; {@code nanoClock} measures throughput.
   */
  public LocalTrainer(
      ComputeBackend backend,
      JobConfig job,
      Path outputDir,
      PrintStream progress,
      LongSupplier nanoClock) {
    this.backend = backend;
    this.job = job;
    this.outputDir = outputDir;
    this.progress = progress;
    this.nanoClock = nanoClock;
  }

  /**
   * Outcome of a run.
   *
   * @param firstLoss loss of the first step
   * @param lastLoss loss of the last step
   * @param eval final held-out evaluation
   * @param tokensPerSecond mean training throughput
   * @param model the trained model
   */
  public record Outcome(
      double firstLoss,
      double lastLoss,
      Evaluator.Result eval,
      double tokensPerSecond,
      Model model) {}

  /** Builds the dataset and the model (resolving vocab/inputs/context from the data). */
  public static Model buildModel(ComputeBackend backend, JobConfig job, Dataset data)
      throws IOException {
    if (job.initFrom() != null) {
      Model m = Checkpoints.loadModel(backend, Path.of(job.initFrom()));
      if (m.config().vocab() < data.vocabSize()) {
        throw new IllegalArgumentException(
            "model.init_from vocabulary "
                + m.config().vocab()
                + " is smaller than the dataset's "
                + data.vocabSize());
      }
      return m;
    }
    ModelConfig c = job.model();
    int vocab = c.vocab() == 0 ? data.vocabSize() : c.vocab();
    if (vocab < data.vocabSize()) {
      throw new IllegalArgumentException(
          "model vocabulary (vocab_size or num_classes) "
              + vocab
              + " is smaller than the dataset's "
              + data.vocabSize());
    }
    int context = !c.isGpt() ? 0 : c.context() == 0 ? data.inputLength() : c.context();
    if (c.isGpt() && context < data.inputLength()) {
      throw new IllegalArgumentException(
          "model.context "
              + context
              + " is shorter than the dataset's sequences ("
              + data.inputLength()
              + ")");
    }
    int inputs = c.inputs() == 0 ? data.inputLength() : c.inputs();
    if (!c.isGpt() && inputs != data.inputLength()) {
      throw new IllegalArgumentException(
          "model.input_size "
              + inputs
              + " does not match the dataset's "
              + data.inputLength()
              + " features per example");
    }
    return Model.create(backend, c.withData(vocab, inputs, context), job.training().seed());
  }

  /** Opens the dataset for this job. */
  public static Dataset openDataset(JobConfig job) {
    boolean gpt = job.model().isGpt();
    if (gpt != !"idx".equals(job.dataset().type())) {
      throw new IllegalArgumentException(
          "model.type "
              + job.model().type()
              + " cannot train on dataset.type "
              + job.dataset().type()
              + " (gpt needs addition/text/tokens, mlp needs idx)");
    }
    return Datasets.open(
        job.dataset(), job.model().context(), job.model().vocab(), Datasets.DEFAULT_MAX_EVAL);
  }

  /** Runs the job. */
  public Outcome run() throws IOException {
    Dataset data = openDataset(job);
    Model model = buildModel(backend, job, data);
    TrainingConfig tc = job.training();
    progress.printf(
        Locale.ROOT,
        "model %s, %,d parameters, data %s, backend %s%n",
        model.config(),
        model.parameterCount(),
        data.describe(),
        backend.description());
    Trainer trainer = new Trainer(backend, model, data, tc);
    double first = Double.NaN;
    double last = Double.NaN;
    long tokens = 0;
    long start = nanoClock.getAsLong();
    int evalBatch = Math.max(1, tc.microBatchSize());
    for (int step = 0; step < tc.steps(); step++) {
      Trainer.StepStats s = trainer.step(step);
      if (step == 0) {
        first = s.loss();
      }
      last = s.loss();
      tokens += s.tokens();
      double elapsed = (nanoClock.getAsLong() - start) / 1e9;
      boolean lastStep = step == tc.steps() - 1;
      if (step % 10 == 0 || lastStep) {
        double eta = elapsed / (step + 1) * (tc.steps() - step - 1);
        progress.printf(
            Locale.ROOT,
            "step %d/%d  loss %.4f  lr %.2e  grad-norm %.3f  %.0f %s/s  elapsed %s  ETA %s%n",
            step + 1,
            tc.steps(),
            s.loss(),
            s.lr(),
            s.gradNorm(),
            tokens / Math.max(1e-9, elapsed),
            data.isSequence() ? "tokens" : "samples",
            duration(elapsed),
            duration(eta));
      }
      if (tc.evalInterval() > 0 && (step + 1) % tc.evalInterval() == 0 && !lastStep) {
        report(Evaluator.evaluate(backend, model, data, evalBatch), step + 1);
      }
      if (outputDir != null
          && tc.checkpointInterval() > 0
          && (step + 1) % tc.checkpointInterval() == 0
          && !lastStep) {
        save(model, trainer, step + 1, data);
      }
    }
    double seconds = (nanoClock.getAsLong() - start) / 1e9;
    Evaluator.Result eval = Evaluator.evaluate(backend, model, data, evalBatch);
    report(eval, tc.steps());
    if (outputDir != null) {
      save(model, trainer, tc.steps(), data);
      progress.println("checkpoint written to " + outputDir.toAbsolutePath());
    }
    return new Outcome(first, last, eval, tokens / Math.max(1e-9, seconds), model);
  }

  private void report(Evaluator.Result r, int step) {
    progress.printf(
        Locale.ROOT,
        "eval after step %d: loss %.4f%s over %d held-out samples%n",
        step,
        r.loss(),
        Double.isNaN(r.accuracy())
            ? ""
            : String.format(Locale.ROOT, ", exact-match %.2f%%", 100 * r.accuracy()),
        r.samples());
  }

  private void save(Model model, Trainer trainer, int step, Dataset data) throws IOException {
    Checkpoints.save(
        model,
        trainer.optimizer(),
        step,
        Map.of(
            "dataset_type", job.dataset().type(),
            "dataset", data.describe(),
            "seed", Long.toString(job.training().seed())),
        outputDir);
  }

  public static String duration(double seconds) {
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}
