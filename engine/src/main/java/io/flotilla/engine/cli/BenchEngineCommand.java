package io.flotilla.engine.cli;

import io.flotilla.engine.backend.BackendMode;
import io.flotilla.engine.backend.BackendSelector;
import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.backend.cuda.CudaBackend;
import io.flotilla.engine.backend.cuda.CudaProbe;
import io.flotilla.engine.backend.cuda.Precision;
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
            + " width 128, 4 heads, context 64, batch 32, vocab 64; medium: 6/256/8/128/16/256)"
            + " on the CPU or CUDA backend.")
public final class BenchEngineCommand implements Callable<Integer> {
  @Option(names = "--threads", defaultValue = "0", description = "kernel threads (0 = all cores)")
  int threads;

  @Option(names = "--runs", defaultValue = "5", description = "measured runs")
  int runs;

  @Option(
      names = "--backend",
      defaultValue = "auto",
      description = "cpu, cuda, or auto (CUDA when usable, else CPU); default ${DEFAULT-VALUE}")
  String backendName;

  @Option(
      names = "--precision",
      defaultValue = "fp32",
      description = "matrix-product precision on CUDA: fp32 or tf32; default ${DEFAULT-VALUE}")
  String precisionName;

  @Option(
      names = "--sgemm-sizes",
      split = ",",
      description =
          "square sgemm sizes (default: 256,1024 on the CPU; 1024,4096,8192 on CUDA, where each"
              + " is measured on device-resident matrices and through the backend interface)")
  List<Integer> sgemmSizes;

  @Option(
      names = "--configs",
      defaultValue = "small,medium",
      split = ",",
      description = "GPT configurations: small, medium, or none")
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
    BackendMode mode;
    Precision precision;
    try {
      for (String c : configs) {
        if (!c.trim().equals("none")) {
          benches.add(config(c.trim()));
        }
      }
      mode = BackendMode.parse(backendName);
      precision = Precision.parse(precisionName);
      if (sgemmSizes != null) {
        for (int n : sgemmSizes) {
          if (n < 1 || n > 32768) {
            throw new IllegalArgumentException("--sgemm-sizes " + n + " is outside 1..32768");
          }
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    BackendSelector.Selection selection;
    try {
      selection =
          new BackendSelector(
                  CudaProbe::probeOnce,
                  p -> CudaBackend.create(CudaBackend.Options.defaults(p)),
                  t -> t > 0 ? new CpuBackend(t) : CpuBackend.withAllCores(),
                  System.out::println)
              .select(mode, threads, precision);
    } catch (BackendSelector.BackendUnavailableException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    try (ComputeBackend backend = selection.backend()) {
      System.out.println("determinism class " + backend.determinismClass());
      List<Integer> sizes =
          sgemmSizes != null
              ? sgemmSizes
              : backend instanceof CudaBackend ? List.of(1024, 4096, 8192) : List.of(256, 1024);
      for (int n : sizes) {
        if (backend instanceof CudaBackend cuda) {
          System.out.printf(
              Locale.ROOT,
              "sgemm %d^3 device-resident: %.2f TFLOP/s (median of %d)%n",
              n,
              deviceSgemm(cuda, n),
              runs);
        }
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

  private double deviceSgemm(CudaBackend backend, int n) {
    double[] tflops = new double[runs];
    backend.measureSgemmTflops(n, 100_000_000L);
    for (int run = 0; run < runs; run++) {
      tflops[run] = backend.measureSgemmTflops(n, 200_000_000L);
    }
    return median(tflops);
  }

  private double sgemm(ComputeBackend backend, int n) {
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

  private double gpt(ComputeBackend backend, GptBench b) {
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
