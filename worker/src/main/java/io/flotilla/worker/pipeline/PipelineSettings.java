package io.flotilla.worker.pipeline;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of stage executors, from {@code flotilla.worker.pipeline} (see reference.conf).
 *
 * @param receiveTimeout how long a stage waits for one tensor from a peer before the step fails
 * @param computeThreads threads of each executor's CPU backend
 */
public record PipelineSettings(Duration receiveTimeout, int computeThreads) {
  public PipelineSettings {
    Objects.requireNonNull(receiveTimeout, "receiveTimeout");
    if (receiveTimeout.isNegative() || receiveTimeout.isZero()) {
      throw new IllegalArgumentException(
          "flotilla.worker.pipeline.receive-timeout must be > 0, was " + receiveTimeout);
    }
    if (computeThreads < 1) {
      throw new IllegalArgumentException(
          "flotilla.worker.pipeline.compute-threads must be >= 1, was " + computeThreads);
    }
  }

  /** Reads {@code flotilla.worker.pipeline} from the full config. */
  public static PipelineSettings create(Config config) {
    Config c = config.getConfig("flotilla.worker.pipeline");
    return new PipelineSettings(c.getDuration("receive-timeout"), c.getInt("compute-threads"));
  }
}
