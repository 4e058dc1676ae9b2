package io.flotilla.worker;

import com.typesafe.config.Config;
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
 * @param backend compute backend advertised
 * @param benchmarkMatrixSize sgemm matrix size
 * @param benchmarkMinDuration how long the self-benchmark measures
 */
public record WorkerAgentSettings(
    String id,
    int cores,
    long memoryBytes,
    Map<String, String> labels,
    String backend,
    int benchmarkMatrixSize,
    Duration benchmarkMinDuration) {

  public WorkerAgentSettings {
    labels = Map.copyOf(labels);
    if (cores < 0) {
      throw new IllegalArgumentException("flotilla.worker.agent.cores must be >= 0, was " + cores);
    }
    if (!backend.equals("cpu")) {
      throw new IllegalArgumentException(
          "flotilla.worker.agent.backend = '" + backend + "'; allowed: cpu");
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
        c.getString("backend"),
        c.getInt("benchmark.matrix-size"),
        c.getDuration("benchmark.min-duration"));
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
