package io.flotilla.scheduler.job;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The scheduler's job settings, read once from {@code flotilla.scheduler.jobs} and {@code
 * flotilla.scheduler.persistence}.
 *
 * @param askTimeout how long callers wait for a job manager or index
 * @param snapshotEveryEvents events between snapshots of a job's state
 * @param eventsPollInterval how often a job's event stream reads its state
 * @param createSchema whether to create the journal tables at start
 */
public record JobSettings(
    Duration askTimeout,
    int snapshotEveryEvents,
    Duration eventsPollInterval,
    boolean createSchema) {

  /** Config path of the journal plugin the scheduler installs. */
  public static final String JOURNAL_PLUGIN = "flotilla.scheduler.persistence.journal";

  /** Config path of the snapshot store plugin the scheduler installs. */
  public static final String SNAPSHOT_PLUGIN = "flotilla.scheduler.persistence.snapshot-store";

  /** Config path of the Slick database the journal and snapshot store share. */
  public static final String SHARED_DATABASE = "pekko-persistence-jdbc.shared-databases.flotilla";

  public JobSettings {
    if (snapshotEveryEvents < 1) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.jobs.snapshot-every-events must be >= 1; was " + snapshotEveryEvents);
    }
    if (askTimeout.isNegative() || askTimeout.isZero()) {
      throw new IllegalArgumentException("flotilla.scheduler.jobs.ask-timeout must be positive");
    }
    if (eventsPollInterval.isNegative() || eventsPollInterval.isZero()) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.jobs.events-poll-interval must be positive");
    }
  }

  /** Reads the settings from a resolved config. */
  public static JobSettings create(Config config) {
    Config jobs = config.getConfig("flotilla.scheduler.jobs");
    return new JobSettings(
        jobs.getDuration("ask-timeout"),
        jobs.getInt("snapshot-every-events"),
        jobs.getDuration("events-poll-interval"),
        config.getBoolean("flotilla.scheduler.persistence.create-schema"));
  }
}
