package io.flotilla.engine.cli;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.JobFiles;
import io.flotilla.engine.train.LocalTrainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code train-local JOB.yaml}: trains a model in this process. */
@Command(
    name = "train-local",
    mixinStandardHelpOptions = true,
    description = "Train a model in one process from a job file (model, dataset, training).")
public final class TrainLocalCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "JOB.yaml", description = "job file")
  Path job;

  @Option(
      names = "--out",
      defaultValue = "checkpoints/local",
      description = "checkpoint directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--threads", defaultValue = "0", description = "kernel threads (0 = all cores)")
  int threads;

  @Option(names = "--steps", description = "override training.steps")
  Integer steps;

  @Override
  public Integer call() throws Exception {
    JobConfig cfg;
    try {
      cfg = JobFiles.read(job);
      if (steps != null) {
        var t = cfg.training();
        cfg =
            new JobConfig(
                cfg.model(),
                cfg.initFrom(),
                cfg.dataset(),
                new io.flotilla.engine.train.TrainingConfig(
                    steps,
                    t.globalBatch(),
                    t.microBatches(),
                    t.seed(),
                    t.optimizer(),
                    Math.min(t.warmupSteps(), steps),
                    t.minLr(),
                    t.checkpointInterval(),
                    t.evalInterval()));
      }
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    try (CpuBackend backend = threads > 0 ? new CpuBackend(threads) : CpuBackend.withAllCores()) {
      new LocalTrainer(backend, cfg, out, System.out, System::nanoTime).run();
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
  }
}
