package io.flotilla.engine.cli;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.JobSpecs;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.protocol.job.InvalidJobSpecException;
import io.flotilla.protocol.job.JobSpecParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code train-local JOB.yaml}: trains a job spec (docs/job-spec.md) in this process. Parallelism,
 * verification and payment are ignored: one process computes the whole global batch.
 */
@Command(
    name = "train-local",
    mixinStandardHelpOptions = true,
    description = {
      "Train a job spec (docs/job-spec.md) in one process, with a progress line, held-out"
          + " evaluation and checkpoints.",
      "Exit codes: 0 trained, 1 failed, 2 invalid spec or options."
    })
public final class TrainLocalCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "JOB.yaml", description = "job spec (YAML or JSON)")
  Path job;

  @Option(
      names = "--out",
      defaultValue = "checkpoints/local",
      description = "checkpoint directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--threads", defaultValue = "0", description = "kernel threads (0 = all cores)")
  int threads;

  @Option(
      names = "--steps",
      description = "override training.steps (warm-up is capped at it; the schedule spans it)")
  Integer steps;

  @Override
  public Integer call() throws Exception {
    JobConfig cfg;
    try {
      cfg = JobSpecs.toJobConfig(JobSpecParser.parse(job));
      if (steps != null) {
        if (steps < 1) {
          System.err.println("error: --steps must be >= 1, got " + steps);
          return 2;
        }
        cfg =
            new JobConfig(
                cfg.model(), cfg.initFrom(), cfg.dataset(), cfg.training().withSteps(steps));
      }
    } catch (InvalidJobSpecException e) {
      System.err.println(job + ": " + e.getMessage());
      return 2;
    } catch (IOException e) {
      System.err.println("error: cannot read " + job + ": " + e);
      return 2;
    }
    if (threads < 0) {
      System.err.println("error: --threads must be >= 0, got " + threads);
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
