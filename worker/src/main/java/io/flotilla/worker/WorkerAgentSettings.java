package io.flotilla.worker;

import com.typesafe.config.Config;
import io.flotilla.engine.backend.BackendMode;
import io.flotilla.engine.backend.cuda.Precision;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code flotilla.worker.agent} settings, read once.
 *
 * @param id registry id, blank for the default {@code worker-<host>-<port>}
 * @param cores cores offered, 0 for all
 * @param memoryBytes memory offered, 0 for 75% of the maximum heap
 * @param labels operator labels
 * @param backend which compute backend to select at start
 * @param precision matrix-product precision on CUDA
 * @param benchmarkMatrixSize sgemm matrix size
 * @param benchmarkGpuMatrixSize cuBLAS sgemm matrix size on a CUDA worker
 * @param benchmarkMinDuration how long the self-benchmark measures
 * @param benchmarkCpuGflops CPU GFLOP/s to advertise instead of measuring, 0 to measure
 */
public record WorkerAgentSettings(
    String id,
    int cores,
    long memoryBytes,
    Map<String, String> labels,
    BackendMode backend,
    Precision precision,
    int benchmarkMatrixSize,
    int benchmarkGpuMatrixSize,
    Duration benchmarkMinDuration,
    double benchmarkCpuGflops) {

  public WorkerAgentSettings {
    labels = Map.copyOf(labels);
    if (cores < 0) {
      throw new IllegalArgumentException("flotilla.worker.agent.cores must be >= 0, was " + cores);
    }
    if (!(benchmarkCpuGflops >= 0) || Double.isInfinite(benchmarkCpuGflops)) {
      throw new IllegalArgumentException(
          "flotilla.worker.agent.benchmark.cpu-gflops must be a finite number >= 0 (0 measures),"
              + " was "
              + benchmarkCpuGflops);
    }
    if (benchmarkGpuMatrixSize < 64 || benchmarkGpuMatrixSize > 16384) {
      throw new IllegalArgumentException(
          "flotilla.worker.agent.benchmark.gpu-matrix-size must be in 64..16384, was "
              + benchmarkGpuMatrixSize);
    }
  }

  /** Reads the settings from the root config. */
  public static WorkerAgentSettings create(Config root) {
    Config c = root.getConfig("flotilla.worker.agent");
    Map<String, String> labels = new TreeMap<>();
    c.getConfig("labels")
        .entrySet()
        .forEach(e -> labels.put(e.getKey(), String.valueOf(e.getValue().unwrapped())));
    return new WorkerAgentSettings(
        c.getString("id"),
        c.getInt("cores"),
        c.getBytes("memory"),
        labels,
        parse("backend", () -> BackendMode.parse(c.getString("backend"))),
        parse("precision", () -> Precision.parse(c.getString("precision"))),
        c.getInt("benchmark.matrix-size"),
        c.getInt("benchmark.gpu-matrix-size"),
        c.getDuration("benchmark.min-duration"),
        c.getDouble("benchmark.cpu-gflops"));
  }

  private static <T> T parse(String key, java.util.function.Supplier<T> value) {
    try {
      return value.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("flotilla.worker.agent." + key + ": " + e.getMessage(), e);
    }
  }

  /** Cores to advertise. */
  public int effectiveCores() {
    return cores > 0 ? cores : Runtime.getRuntime().availableProcessors();
  }

  /** Memory to advertise. */
  public long effectiveMemoryBytes() {
    return memoryBytes > 0 ? memoryBytes : Runtime.getRuntime().maxMemory() / 4 * 3;
  }
}
