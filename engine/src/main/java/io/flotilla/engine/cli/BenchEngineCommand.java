package io.flotilla.engine.cli;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.nn.CrossEntropyLoss;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.optim.AdamW;
import io.flotilla.engine.optim.OptimizerConfig;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench engine}: sgemm GFLOP/s and GPT training tokens/s (forward, backward, AdamW) with
 * warm-up, several runs and the median.
 */
@Command(
    name = "engine",
    mixinStandardHelpOptions = true,
    description =
        "Benchmark the compute engine: sgemm GFLOP/s and GPT training tokens/s (small: 4 layers,"
            + " width 128, 4 heads, context 64, batch 32, vocab 64; medium: 6/256/8/128/16/256).")
public final class BenchEngineCommand implements Callable<Integer> {
  @Option(names = "--threads", defaultValue = "0", description = "kernel threads (0 = all cores)")
  int threads;

  @Option(names = "--runs", defaultValue = "5", description = "measured runs")
  int runs;

  @Option(
      names = "--configs",
      defaultValue = "small,medium",
      split = ",",
      description = "GPT configurations: small, medium")
  List<String> configs;

  /** A GPT benchmark configuration. */
  record GptBench(String name, ModelConfig model, int batch, int stepsPerRun) {}

  static GptBench config(String name) {
    return switch (name) {
      case "small" -> new GptBench(name, ModelConfig.gpt(4, 128, 4, 64, 64, 0f), 32, 5);
      case "medium" -> new GptBench(name, ModelConfig.gpt(6, 256, 8, 128, 256, 0f), 16, 2);
      default -> throw new IllegalArgumentException("unknown config " + name + " (small, medium)");
    };
  }

  @Override
  public Integer call() {
    if (runs < 1) {
      System.err.println("error: --runs must be >= 1");
      return 2;
    }
    List<GptBench> benches = new ArrayList<>();
    try {
      for (String c : configs) {
        benches.add(config(c.trim()));
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    try (CpuBackend backend = threads > 0 ? new CpuBackend(threads) : CpuBackend.withAllCores()) {
      System.out.println("backend " + backend.description());
      for (int n : new int[] {256, 1024}) {
        System.out.printf(
            Locale.ROOT, "sgemm %d^3: %.1f GFLOP/s (median of %d)%n", n, sgemm(backend, n), runs);
      }
      for (GptBench b : benches) {
        double tps = gpt(backend, b);
        System.out.printf(
            Locale.ROOT,
            "gpt %s (%d layers, width %d, %d heads, context %d, batch %d, vocab %d): %.0f tokens/s"
                + " (median of %d)%n",
            b.name(),
            b.model().layers(),
            b.model().width(),
            b.model().heads(),
            b.model().context(),
            b.batch(),
            b.model().vocab(),
            tps,
            runs);
      }
    }
    return 0;
  }

  private double sgemm(CpuBackend backend, int n) {
    Tensor a = Tensor.zeros(n, n);
    Tensor b = Tensor.zeros(n, n);
    Tensor c = Tensor.zeros(n, n);
    Random r = new Random(1);
    for (int i = 0; i < n * n; i++) {
      a.data()[i] = r.nextFloat();
      b.data()[i] = r.nextFloat();
    }
    int reps = Math.max(1, (int) (2e9 / (2.0 * n * n * n)));
    double[] gflops = new double[runs];
    for (int run = -2; run < runs; run++) {
      long t0 = System.nanoTime();
      for (int k = 0; k < reps; k++) {
        backend.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
      }
      double s = (System.nanoTime() - t0) / 1e9;
      if (run >= 0) {
        gflops[run] = 2.0 * n * n * n * reps / s / 1e9;
      }
    }
    return median(gflops);
  }

  private double gpt(CpuBackend backend, GptBench b) {
    ModelConfig mc = b.model();
    Model model = Model.create(backend, mc, 1);
    AdamW opt = new AdamW(backend, model.parameters(), OptimizerConfig.defaults());
    CrossEntropyLoss loss = new CrossEntropyLoss(backend);
    Random r = new Random(2);
    Tensor x = Tensor.zeros(b.batch(), mc.context());
    Tensor y = Tensor.zeros(b.batch(), mc.context());
    for (int i = 0; i < x.size(); i++) {
      x.data()[i] = r.nextInt(mc.vocab());
      y.data()[i] = r.nextInt(mc.vocab());
    }
    double[] tps = new double[runs];
    long tokens = (long) b.batch() * mc.context() * b.stepsPerRun();
    for (int run = -1; run < runs; run++) {
      long t0 = System.nanoTime();
      for (int s = 0; s < b.stepsPerRun(); s++) {
        model.zeroGrad();
        Tensor logits = model.forward(x, new ForwardContext(true, s));
        loss.forwardBackward(logits, y, 1f / y.size());
        model.backward(loss.grad());
        opt.clipGradients();
        opt.step(1e-3f);
      }
      double sec = (System.nanoTime() - t0) / 1e9;
      if (run >= 0) {
        tps[run] = tokens / sec;
      }
    }
    return median(tps);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
