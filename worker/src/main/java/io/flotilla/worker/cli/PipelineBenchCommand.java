package io.flotilla.worker.cli;

import io.flotilla.protocol.job.InvalidJobSpecException;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.worker.pipeline.LocalPipeline;
import io.flotilla.worker.pipeline.PipelineSettings;
import io.flotilla.worker.transport.DataPlaneSettings;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla bench pipeline}: runs a GPT on the addition task through P pipeline stages with M
 * micro-batches in this process (every stage on its own thread and data-plane transport, tensors
 * over loopback UDP), for GPipe and 1F1B, and prints the measured bubble share next to GPipe's
 * formula (P - 1) / (M + P - 1).
 *
 * <p>The bubble share of a step is the time stages spent waiting for their neighbours inside the
 * micro-batch schedule divided by the schedule's total stage time (summed over stages); the last
 * column shows each stage's own share. Warm-up steps first, then the median over the measured
 * steps.
 */
@Command(
    name = "pipeline",
    mixinStandardHelpOptions = true,
    description =
        "Measure the pipeline bubble (idle stage time) of GPipe and 1F1B for several stage and"
            + " micro-batch counts, next to the GPipe formula (P-1)/(M+P-1).")
public final class PipelineBenchCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--stages",
      split = ",",
      description = "Pipeline stage counts P (default: ${DEFAULT-VALUE}).",
      defaultValue = "2,4")
  int[] stages;

  @Option(
      names = "--micro-batches",
      split = ",",
      description = "Micro-batch counts M (default: ${DEFAULT-VALUE}).",
      defaultValue = "1,4,8")
  int[] microBatches;

  @Option(
      names = "--schedules",
      split = ",",
      description = "Schedules, any of gpipe, 1f1b (default: ${DEFAULT-VALUE}).",
      defaultValue = "gpipe,1f1b")
  String[] schedules;

  @Option(
      names = "--micro-batch-size",
      description = "Examples per micro-batch (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int microBatchSize;

  @Option(
      names = "--layers",
      description =
          "Transformer blocks of the GPT, spread evenly over the stages (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "8")
  int layers;

  @Option(
      names = "--width",
      description = "Embedding width of the GPT (default: ${DEFAULT-VALUE}).",
      defaultValue = "128")
  int width;

  @Option(
      names = "--warmup",
      description = "Warm-up steps per configuration (default: ${DEFAULT-VALUE}).",
      defaultValue = "3")
  int warmupSteps;

  @Option(
      names = "--steps",
      description = "Measured steps per configuration (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int measuredSteps;

  /** One measured configuration. */
  record Result(
      String schedule,
      int p,
      int m,
      double stepMs,
      double bubble,
      double formula,
      double[] stageBubbles) {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String problem = validate();
    if (problem != null) {
      err.println("bench pipeline: " + problem);
      return 2;
    }
    out.printf(
        Locale.ROOT,
        "GPT %d blocks, width %d, micro-batch %d, %d warm-up + %d measured steps, %d cores%n",
        layers,
        width,
        microBatchSize,
        warmupSteps,
        measuredSteps,
        Runtime.getRuntime().availableProcessors());
    List<Result> results = new ArrayList<>();
    int total = schedules.length * stages.length * microBatches.length;
    int done = 0;
    try {
      for (String schedule : schedules) {
        for (int p : stages) {
          for (int m : microBatches) {
            out.printf(Locale.ROOT, "[%d/%d] %s P=%d M=%d ...%n", ++done, total, schedule, p, m);
            out.flush();
            results.add(measure(schedule, p, m));
          }
        }
      }
    } catch (InvalidJobSpecException e) {
      err.println("bench pipeline: " + e.getMessage());
      return 2;
    } catch (RuntimeException e) {
      err.println("bench pipeline failed: " + e.getMessage());
      return 1;
    }
    out.println();
    out.println(
        "schedule  P  M  step ms  measured bubble  GPipe (P-1)/(M+P-1)  difference  per stage");
    for (Result r : results) {
      out.printf(
          Locale.ROOT,
          "%-8s %2d %2d %8.1f %15.1f%% %19.1f%% %+8.1f pp  %s%n",
          r.schedule(),
          r.p(),
          r.m(),
          r.stepMs(),
          100 * r.bubble(),
          100 * r.formula(),
          100 * (r.bubble() - r.formula()),
          percentages(r.stageBubbles()));
    }
    return 0;
  }

  private String validate() {
    for (int p : stages) {
      if (p < 1 || p > layers) {
        return "--stages must be in 1.." + layers + " (at most one per block), got " + p;
      }
    }
    for (int m : microBatches) {
      if (m < 1 || m > 64) {
        return "--micro-batches must be in 1..64, got " + m;
      }
    }
    for (String s : schedules) {
      if (!s.equals("gpipe") && !s.equals("1f1b")) {
        return "--schedules must be gpipe or 1f1b, got " + s;
      }
    }
    if (microBatchSize < 1 || layers < 1 || width < 4 || width % 4 != 0) {
      return "--micro-batch-size and --layers must be >= 1 and --width a multiple of 4";
    }
    if (warmupSteps < 0 || measuredSteps < 1) {
      return "--warmup must be >= 0 and --steps >= 1";
    }
    return null;
  }

  private Result measure(String schedule, int p, int m) {
    int steps = warmupSteps + measuredSteps;
    JobSpec job = JobSpecParser.parse(yaml(schedule, p, m, steps));
    double[] bubbles = new double[measuredSteps];
    double[][] stageBubbles = new double[p][measuredSteps];
    double[] stepMs = new double[measuredSteps];
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "bench-" + schedule + "-" + p + "-" + m,
            job,
            new PipelineSettings(Duration.ofSeconds(120), 1),
            DataPlaneSettings.loopback(Duration.ofSeconds(30)),
            balancedBoundaries(p))) {
      for (int step = 0; step < steps; step++) {
        long start = System.nanoTime();
        List<StepReport> reports = pipeline.runStep(step);
        long elapsed = System.nanoTime() - start;
        if (step >= warmupSteps) {
          long idle = 0;
          long busy = 0;
          for (StepReport r : reports) {
            idle += r.idleNanos();
            busy += r.computeNanos();
            stageBubbles[r.stage()][step - warmupSteps] = r.bubbleShare();
          }
          bubbles[step - warmupSteps] = (double) idle / Math.max(1, idle + busy);
          stepMs[step - warmupSteps] = elapsed / 1e6;
        }
      }
    }
    double[] perStage = new double[p];
    for (int k = 0; k < p; k++) {
      perStage[k] = median(stageBubbles[k]);
    }
    return new Result(
        schedule, p, m, median(stepMs), median(bubbles), (p - 1.0) / (m + p - 1.0), perStage);
  }

  private String yaml(String schedule, int p, int m, int steps) {
    return """
        name: bench-pipeline
        model: {type: gpt, layers: %d, width: %d, heads: 4, context: 16, dropout: 0.0}
        dataset: {type: addition, options: {digits: 3, eval_examples: 16}}
        training:
          steps: %d
          global_batch: %d
          micro_batches: %d
          seed: 1
          optimizer: {type: adamw, lr: 1e-3, betas: [0.9, 0.98], eps: 1e-8, weight_decay: 0.01, grad_clip: 1.0}
          schedule: {type: constant, warmup_steps: 0}
        parallelism: {pipeline_stages: %d, replicas: 1, schedule: %s, gradient_sync: allreduce}
        verification: {redundancy: none}
        checkpoint: {interval_steps: 1000}
        """
        .formatted(layers, width, steps, m * microBatchSize, m, p, schedule);
  }

  /**
   * Stage boundaries that give every stage the same number of transformer blocks (as near as
   * possible); the embedding joins the first stage and the head the last, since both cost little
   * next to a block at this vocabulary. Layer 0 is the embedding, layer i + 1 block i, layer blocks
   * + 1 the head.
   */
  int[] balancedBoundaries(int p) {
    int[] b = new int[p + 1];
    for (int k = 1; k < p; k++) {
      b[k] = 1 + (int) ((long) layers * k / p);
    }
    b[p] = layers + 2;
    return b;
  }

  private static String percentages(double[] shares) {
    StringBuilder b = new StringBuilder();
    for (double share : shares) {
      b.append(b.isEmpty() ? "" : " / ").append(Math.round(100 * share)).append('%');
    }
    return b.toString();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Runs the benchmark on its own. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new PipelineBenchCommand()).execute(args));
  }
}
