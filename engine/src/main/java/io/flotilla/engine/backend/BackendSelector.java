package io.flotilla.engine.backend;

import io.flotilla.engine.backend.cuda.CudaBackend;
import io.flotilla.engine.backend.cuda.CudaDeviceInfo;
import io.flotilla.engine.backend.cuda.CudaProbe;
import io.flotilla.engine.backend.cuda.Precision;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the compute backend at start: probes CUDA once (catching every {@link Throwable}, since
 * missing natives fail with {@link Error}s), logs one line saying which backend and why, and
 * returns it. {@code auto} falls back to the CPU without a stack trace; {@code cuda} that cannot
 * start is a {@link BackendUnavailableException}.
 */
public final class BackendSelector {
  private static final Logger LOG = LoggerFactory.getLogger(BackendSelector.class);

  /**
   * The chosen backend.
   *
   * @param backend the backend (the caller closes it)
   * @param kind {@code cpu} or {@code cuda}, as advertised in the worker registry
   * @param reason why this backend, one line
   * @param gpu the GPU the backend computes on, {@code null} for the CPU
   */
  public record Selection(ComputeBackend backend, String kind, String reason, CudaDeviceInfo gpu) {
    /** The line that is logged, e.g. {@code backend: cpu (auto: no CUDA driver: ...)}. */
    public String logLine() {
      return "backend: " + kind + " (" + reason + ")";
    }
  }

  /** {@code cuda} was requested and cannot start; the message says why. */
  public static final class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BackendUnavailableException(String message) {
      super(message);
    }
  }

  private final Supplier<CudaProbe.Result> probe;
  private final Function<Precision, ComputeBackend> cudaFactory;
  private final IntFunction<ComputeBackend> cpuFactory;
  private final Consumer<String> log;

  /**
   * A selector over explicit parts, for tests: a probe, a CUDA factory, a CPU factory (given the
   * thread count) and where the one line goes.
   */
  public BackendSelector(
      Supplier<CudaProbe.Result> probe,
      Function<Precision, ComputeBackend> cudaFactory,
      IntFunction<ComputeBackend> cpuFactory,
      Consumer<String> log) {
    this.probe = probe;
    this.cudaFactory = cudaFactory;
    this.cpuFactory = cpuFactory;
    this.log = log;
  }

  /** The real selector: {@link CudaProbe}, {@link CudaBackend}, {@link CpuBackend}, SLF4J. */
  public static BackendSelector standard() {
    return new BackendSelector(
        CudaProbe::probeOnce,
        p -> CudaBackend.create(CudaBackend.Options.defaults(p)),
        threads -> threads > 0 ? new CpuBackend(threads) : CpuBackend.withAllCores(),
        LOG::info);
  }

  /**
   * Selects and starts a backend.
   *
   * @param mode what was asked for
   * @param cpuThreads threads of a CPU backend (0 = all cores)
   * @param precision matrix-product precision of a CUDA backend
   * @throws BackendUnavailableException when {@code cuda} was asked for and cannot start
   */
  public Selection select(BackendMode mode, int cpuThreads, Precision precision) {
    Selection s =
        switch (mode) {
          case CPU -> cpu(cpuThreads, "requested");
          case CUDA -> {
            CudaProbe.Result r = probe.get();
            if (!r.available()) {
              throw new BackendUnavailableException(
                  "backend cuda requested but CUDA is not usable: " + r.reason());
            }
            try {
              yield cuda(r, precision, "requested");
            } catch (Throwable t) {
              throw new BackendUnavailableException(
                  "backend cuda requested but it failed to start: " + CudaProbe.oneLine(t));
            }
          }
          case AUTO -> {
            CudaProbe.Result r = probe.get();
            if (!r.available()) {
              yield cpu(cpuThreads, "auto: " + r.reason());
            }
            Selection c;
            try {
              c = cuda(r, precision, "auto");
            } catch (Throwable t) {
              c = cpu(cpuThreads, "auto: CUDA backend failed to start: " + CudaProbe.oneLine(t));
            }
            yield c;
          }
        };
    log.accept(s.logLine());
    return s;
  }

  private Selection cpu(int threads, String why) {
    ComputeBackend b = cpuFactory.apply(threads);
    return new Selection(b, "cpu", why + "; " + b.description(), null);
  }

  private Selection cuda(CudaProbe.Result r, Precision precision, String why) {
    ComputeBackend b = cudaFactory.apply(precision);
    return new Selection(b, "cuda", why + "; " + b.description(), r.device());
  }
}
