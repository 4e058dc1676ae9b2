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
 * @param orchestration how job managers drive steps on workers
 * @param unitsPerCurrency ledger units per unit of a job's payment currency
 * @param workersInterval how often at most a job manager acts on changes of the worker registry
 */
public record JobSettings(
    Duration askTimeout,
    int snapshotEveryEvents,
    Duration eventsPollInterval,
    boolean createSchema,
    Orchestration orchestration,
    long unitsPerCurrency,
    Duration workersInterval) {

  /**
   * How a job manager drives a job's steps (see reference.conf, {@code flotilla.scheduler.jobs}).
   *
   * @param prepareTimeout longest wait for every stage host to be found and ready
   * @param stepTimeoutMin lower bound of a step's deadline
   * @param stepTimeoutFactor a step's deadline in multiples of the slowest recent step
   * @param checkpointTimeout longest wait for every shard of a checkpoint
   * @param maxRestarts interruptions after which a job fails
   * @param restartBackoffMin wait before placing a job again after its first interruption
   * @param restartBackoffMax longest such wait
   * @param verification how results are verified ({@code flotilla.scheduler.verification})
   */
  public record Orchestration(
      Duration prepareTimeout,
      Duration stepTimeoutMin,
      double stepTimeoutFactor,
      Duration checkpointTimeout,
      int maxRestarts,
      Duration restartBackoffMin,
      Duration restartBackoffMax,
      io.flotilla.scheduler.verify.VerificationSettings verification) {
    public Orchestration {
      java.util.Objects.requireNonNull(verification, "verification");
      for (Duration d :
          new Duration[] {
            prepareTimeout, stepTimeoutMin, checkpointTimeout, restartBackoffMin, restartBackoffMax
          }) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException(
              "flotilla.scheduler.jobs timeouts must be positive, was " + d);
        }
      }
      if (!(stepTimeoutFactor >= 1)) {
        throw new IllegalArgumentException(
            "flotilla.scheduler.jobs.step-timeout-factor must be >= 1, was " + stepTimeoutFactor);
      }
      if (maxRestarts < 0) {
        throw new IllegalArgumentException(
            "flotilla.scheduler.jobs.max-restarts must be >= 0, was " + maxRestarts);
      }
    }

    /** The wait before placing a job again after its {@code restarts}-th interruption. */
    public Duration restartBackoff(int restarts) {
      Duration d = restartBackoffMin.multipliedBy(1L << Math.min(20, Math.max(0, restarts - 1)));
      return d.compareTo(restartBackoffMax) < 0 ? d : restartBackoffMax;
    }

    /** The deadline of a step when the slowest recent step took {@code slowest}. */
    public Duration stepTimeout(Duration slowest) {
      Duration scaled = Duration.ofNanos((long) (slowest.toNanos() * stepTimeoutFactor));
      return scaled.compareTo(stepTimeoutMin) > 0 ? scaled : stepTimeoutMin;
    }
  }

  /** Config path of the journal plugin the scheduler installs. */
  public static final String JOURNAL_PLUGIN = "flotilla.scheduler.persistence.journal";

  /** Config path of the snapshot store plugin the scheduler installs. */
  public static final String SNAPSHOT_PLUGIN = "flotilla.scheduler.persistence.snapshot-store";

  /** Config path of the Slick database the journal and snapshot store share. */
  public static final String SHARED_DATABASE = "pekko-persistence-jdbc.shared-databases.flotilla";

  public JobSettings {
    if (unitsPerCurrency < 1) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.payment.units-per-currency-unit must be >= 1, was "
              + unitsPerCurrency);
    }
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
    if (workersInterval.isNegative()) {
      throw new IllegalArgumentException(
          "flotilla.scheduler.jobs.workers-interval must not be negative");
    }
  }

  /** Reads the settings from a resolved config. */
  public static JobSettings create(Config config) {
    Config jobs = config.getConfig("flotilla.scheduler.jobs");
    return new JobSettings(
        jobs.getDuration("ask-timeout"),
        jobs.getInt("snapshot-every-events"),
        jobs.getDuration("events-poll-interval"),
        config.getBoolean("flotilla.scheduler.persistence.create-schema"),
        new Orchestration(
            jobs.getDuration("prepare-timeout"),
            jobs.getDuration("step-timeout-min"),
            jobs.getDouble("step-timeout-factor"),
            jobs.getDuration("checkpoint-timeout"),
            jobs.getInt("max-restarts"),
            jobs.getDuration("restart-backoff-min"),
            jobs.getDuration("restart-backoff-max"),
            io.flotilla.scheduler.verify.VerificationSettings.create(config)),
        config.getLong("flotilla.scheduler.payment.units-per-currency-unit"),
        jobs.getDuration("workers-interval"));
  }
}
