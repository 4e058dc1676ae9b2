package io.flotilla.loadtest;

import io.flotilla.worker.fault.FaultMode;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The named load scenarios. Each is {@link ScenarioRunner} with other parameters, in two sizes:
 * {@link Size#SMOKE} (a few seconds, what CI runs) and {@link Size#FULL} (what {@code -Pload} and
 * {@code flotilla loadtest} run by default).
 */
public enum Scenario {
  /** Jobs kept in flight on a stable set of workers. */
  STEADY("steady", "jobs kept in flight on a stable set of workers"),
  /** Many more jobs than the workers can hold, submitted at once: they queue and drain. */
  BURST("burst", "a burst of job submissions, far more than the workers hold at once"),
  /** The jobs are submitted first; then every worker joins at once. */
  JOIN("join", "jobs wait while thousands of workers join at once"),
  /** Workers leave and join at a given rate while jobs run; a volunteer host crashes. */
  CHURN("churn", "workers leave and join at a rate; one volunteer host crashes mid-run"),
  /** A share of workers corrupt their results; the replica vote must catch every one. */
  FAULTY("faulty", "a share of workers corrupt their results (replica vote, quarantine)"),
  /** Paid jobs with a checkpoint, and receipts, after every step. */
  LEDGER_FLOOD("ledger-flood", "paid jobs receipting every step: a flood of settlements"),
  /** A scheduler node crashes while paid jobs run; its job managers move to the other. */
  SCHEDULER_CRASH("scheduler-crash", "a scheduler node crashes under load");

  /** How large a run is. */
  public enum Size {
    SMOKE,
    FULL
  }

  private final String cliName;
  private final String description;

  Scenario(String cliName, String description) {
    this.cliName = cliName;
    this.description = description;
  }

  /** The name on the command line. */
  public String cliName() {
    return cliName;
  }

  /** One line about what the scenario does. */
  public String description() {
    return description;
  }

  /** The scenario named {@code name}. */
  public static Scenario parse(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    for (Scenario s : values()) {
      if (s.cliName.equals(wanted)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown scenario '"
            + name
            + "'; allowed: "
            + Arrays.stream(values()).map(Scenario::cliName).collect(Collectors.joining(", ")));
  }

  /** The scenario's default parameters at {@code size}. */
  public ScenarioParameters parameters(Size size) {
    boolean smoke = size == Size.SMOKE;
    int workers = smoke ? 40 : 1000;
    ScenarioParameters base =
        new ScenarioParameters(
            workers,
            smoke ? 2 : 4,
            1,
            // Full-size runs measure the cluster once the JIT has compiled its hot paths; a smoke
            // run checks invariants, not numbers.
            Duration.ofSeconds(smoke ? 0 : 20),
            Duration.ofSeconds(smoke ? 4 : 60),
            workers / 4,
            workers / 4,
            2,
            2,
            smoke ? 20 : 200,
            smoke ? 10 : 50,
            false,
            new ComputeTime(2, 0.5),
            0,
            FaultMode.NONE,
            1.0,
            0,
            0,
            false,
            false,
            Math.min(workers, 64),
            Duration.ofSeconds(smoke ? 60 : 300),
            42);
    ScenarioParameters.Builder b = base.toBuilder();
    return switch (this) {
      case STEADY -> b.build();
      case BURST -> b.concurrentJobs(workers).warmup(Duration.ZERO).duration(Duration.ZERO).build();
      case JOIN -> {
        int joining = smoke ? 200 : 10_000;
        yield b.workers(joining)
            .concurrentJobs(Math.max(1, joining / 40))
            .hosts(smoke ? 2 : 8)
            .warmup(Duration.ZERO)
            .joinDuringRun(true)
            .build();
      }
      case CHURN -> b.churnPerMinute(smoke ? 1.0 : 0.2).crashHosts(1).build();
      case FAULTY ->
          b.replicas(3).faulty(0.1, FaultMode.NOISE, 1.0).paid(true).checkpointEvery(5).build();
      case LEDGER_FLOOD -> b.paid(true).checkpointEvery(1).build();
      case SCHEDULER_CRASH -> b.paid(true).schedulers(2).crashScheduler(true).build();
    };
  }
}
