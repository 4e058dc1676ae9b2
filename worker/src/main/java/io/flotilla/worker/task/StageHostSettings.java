package io.flotilla.worker.task;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a worker's {@link StageHost}, from {@code flotilla.worker.stage-host} (see
 * reference.conf).
 *
 * @param workDirectory where checkpoint shards are written before upload and downloaded before
 *     restore
 * @param transferTimeout longest a checkpoint upload or download may take
 */
public record StageHostSettings(Path workDirectory, Duration transferTimeout) {
  public StageHostSettings {
    Objects.requireNonNull(workDirectory, "workDirectory");
    if (transferTimeout.isNegative() || transferTimeout.isZero()) {
      throw new IllegalArgumentException(
          "flotilla.worker.stage-host.transfer-timeout must be > 0, was " + transferTimeout);
    }
  }

  /** Reads {@code flotilla.worker.stage-host} from the full config. */
  public static StageHostSettings create(Config config) {
    Config c = config.getConfig("flotilla.worker.stage-host");
    String dir = c.getString("work-directory");
    return new StageHostSettings(
        dir.isBlank() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(dir),
        c.getDuration("transfer-timeout"));
  }
}
