package io.flotilla.gossip.reputation;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code flotilla.gossip.reputation} settings, read once.
 *
 * @param quarantineAfterInvalid invalid results (since the last release) that quarantine a worker
 *     cluster-wide
 * @param writeTimeout how long a quarantine or release waits for a majority of nodes
 * @param validFlushInterval how long valid results are gathered before they are written as one
 *     update (invalid results are written at once)
 */
public record ReputationSettings(
    int quarantineAfterInvalid, Duration writeTimeout, Duration validFlushInterval) {

  public ReputationSettings {
    if (quarantineAfterInvalid < 1) {
      throw new IllegalArgumentException(
          "flotilla.gossip.reputation.quarantine-after-invalid must be >= 1, was "
              + quarantineAfterInvalid);
    }
    if (writeTimeout.isNegative() || writeTimeout.isZero()) {
      throw new IllegalArgumentException(
          "flotilla.gossip.reputation.write-timeout must be > 0, was " + writeTimeout);
    }
    if (validFlushInterval.isNegative()) {
      throw new IllegalArgumentException(
          "flotilla.gossip.reputation.valid-flush-interval must be >= 0, was "
              + validFlushInterval);
    }
  }

  /** Reads the settings from the root config. */
  public static ReputationSettings create(Config root) {
    Config c = root.getConfig("flotilla.gossip.reputation");
    return new ReputationSettings(
        c.getInt("quarantine-after-invalid"),
        c.getDuration("write-timeout"),
        c.getDuration("valid-flush-interval"));
  }
}
