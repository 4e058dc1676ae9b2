package io.flotilla.scheduler.verify;

import com.typesafe.config.Config;

/**
 * The {@code flotilla.scheduler.verification} settings, read once.
 *
 * @param trustAfterValid consecutive valid results a worker needs before adaptive replication
 *     replicates less than every task of it
 * @param minReplicationProbability adaptive replication never replicates a worker's task with a
 *     lower probability than this, however long its record
 * @param maxExecutions the most executions of one task, tie-breakers included
 */
public record VerificationSettings(
    int trustAfterValid, double minReplicationProbability, int maxExecutions) {

  public VerificationSettings {
    if (trustAfterValid < 1) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.verification.adaptive.trust-after-valid must be >= 1, was "
              + trustAfterValid);
    }
    if (!(minReplicationProbability >= 0 && minReplicationProbability <= 1)) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.verification.adaptive.min-replication-probability must be in 0..1,"
              + " was "
              + minReplicationProbability);
    }
    if (maxExecutions < 2) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.verification.max-executions must be >= 2, was " + maxExecutions);
    }
  }

  /** Reads the settings from the root config. */
  public static VerificationSettings create(Config root) {
    Config c = root.getConfig("flotilla.scheduler.verification");
    return new VerificationSettings(
        c.getInt("adaptive.trust-after-valid"),
        c.getDouble("adaptive.min-replication-probability"),
        c.getInt("max-executions"));
  }
}
