package io.flotilla.loadtest;

import io.flotilla.worker.fault.FaultMode;
import java.time.Duration;
import java.util.Objects;

/**
 * What one run of a scenario does. Every scenario is the same machinery with other parameters; see
 * {@link Scenario} for each one's defaults.
 *
 * @param workers simulated workers at the start (the join scenario: that join during the run)
 * @param hosts volunteer host nodes the workers are spread over
 * @param schedulers scheduler nodes
 * @param warmup how long jobs run before the measured window starts (the scenario's events, such as
 *     crashes, happen in the measured window); its seconds are charted but not summarised
 * @param duration how long jobs are submitted after the warm-up (then the run drains)
 * @param concurrentJobs jobs kept in flight (steady, churn, faulty, flood, crash)
 * @param burstJobs jobs submitted at once at the start (burst)
 * @param stages pipeline stages per job
 * @param replicas data-parallel replicas per job
 * @param stepsPerJob training steps per job
 * @param checkpointEvery steps between checkpoints (and receipts of paid jobs)
 * @param paid whether jobs pay their workers through the ledger
 * @param compute how long a simulated step takes
 * @param faultyShare share of workers that misbehave
 * @param faultMode how they misbehave
 * @param faultRate share of their tasks they corrupt
 * @param churnPerMinute share of the workers that leave (and as many that join) per minute
 * @param crashHosts volunteer hosts crashed mid-run (all their workers lost at once)
 * @param crashScheduler whether a scheduler node crashes mid-run
 * @param joinDuringRun whether the workers join after the jobs were submitted (join scenario)
 * @param identities distinct signing keys shared by the workers (key generation is slow)
 * @param drainTimeout longest wait for the jobs in flight to end after {@code duration}
 * @param seed seeds every draw of the run
 */
public record ScenarioParameters(
    int workers,
    int hosts,
    int schedulers,
    Duration warmup,
    Duration duration,
    int concurrentJobs,
    int burstJobs,
    int stages,
    int replicas,
    int stepsPerJob,
    int checkpointEvery,
    boolean paid,
    ComputeTime compute,
    double faultyShare,
    FaultMode faultMode,
    double faultRate,
    double churnPerMinute,
    int crashHosts,
    boolean crashScheduler,
    boolean joinDuringRun,
    int identities,
    Duration drainTimeout,
    long seed) {

  public ScenarioParameters {
    Objects.requireNonNull(warmup, "warmup");
    Objects.requireNonNull(duration, "duration");
    if (warmup.isNegative() || duration.isNegative()) {
      throw new IllegalArgumentException(
          "--warmup and --duration must not be negative, were " + warmup + " and " + duration);
    }
    Objects.requireNonNull(compute, "compute");
    Objects.requireNonNull(faultMode, "faultMode");
    Objects.requireNonNull(drainTimeout, "drainTimeout");
    if (workers < 1) {
      throw new IllegalArgumentException("--workers must be >= 1, was " + workers);
    }
    if (hosts < 1 || hosts > 64) {
      throw new IllegalArgumentException("--hosts must be in 1..64, was " + hosts);
    }
    if (schedulers < 1 || schedulers > 4 || (crashScheduler && schedulers < 2)) {
      throw new IllegalArgumentException(
          "--schedulers must be in 1..4 (at least 2 when one crashes), was " + schedulers);
    }
    if (stages < 1 || replicas < 1 || stepsPerJob < 1 || checkpointEvery < 1) {
      throw new IllegalArgumentException("stages, replicas, steps and checkpoint must be >= 1");
    }
    if (stages * replicas > workers && !joinDuringRun) {
      throw new IllegalArgumentException(
          "a job needs " + stages * replicas + " workers but only " + workers + " are simulated");
    }
    if (!(faultyShare >= 0 && faultyShare <= 1)) {
      throw new IllegalArgumentException("--faulty must be in 0..1, was " + faultyShare);
    }
    if (!(churnPerMinute >= 0 && churnPerMinute <= 10)) {
      throw new IllegalArgumentException(
          "--churn must be in 0..10 per minute, was " + churnPerMinute);
    }
    if (crashHosts < 0 || crashHosts >= hosts) {
      throw new IllegalArgumentException(
          "--crash-hosts must be in 0.." + (hosts - 1) + " (one host must survive)");
    }
    if (identities < 1) {
      throw new IllegalArgumentException("--identities must be >= 1");
    }
  }

  /** Slots per job: the workers one job occupies. */
  public int slotsPerJob() {
    return stages * replicas;
  }

  /** A builder starting from these parameters. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes some parameters of a scenario's defaults (the CLI's options). */
  public static final class Builder {
    private int workers;
    private int hosts;
    private int schedulers;
    private Duration warmup;
    private Duration duration;
    private int concurrentJobs;
    private int burstJobs;
    private int stages;
    private int replicas;
    private int stepsPerJob;
    private int checkpointEvery;
    private boolean paid;
    private ComputeTime compute;
    private double faultyShare;
    private FaultMode faultMode;
    private double faultRate;
    private double churnPerMinute;
    private int crashHosts;
    private boolean crashScheduler;
    private boolean joinDuringRun;
    private int identities;
    private Duration drainTimeout;
    private long seed;
    private boolean jobsSet;

    private Builder(ScenarioParameters p) {
      workers = p.workers;
      hosts = p.hosts;
      schedulers = p.schedulers;
      warmup = p.warmup;
      duration = p.duration;
      concurrentJobs = p.concurrentJobs;
      burstJobs = p.burstJobs;
      stages = p.stages;
      replicas = p.replicas;
      stepsPerJob = p.stepsPerJob;
      checkpointEvery = p.checkpointEvery;
      paid = p.paid;
      compute = p.compute;
      faultyShare = p.faultyShare;
      faultMode = p.faultMode;
      faultRate = p.faultRate;
      churnPerMinute = p.churnPerMinute;
      crashHosts = p.crashHosts;
      crashScheduler = p.crashScheduler;
      joinDuringRun = p.joinDuringRun;
      identities = p.identities;
      drainTimeout = p.drainTimeout;
      seed = p.seed;
    }

    /** Simulated workers; unless jobs are set too, jobs in flight scale with them. */
    public Builder workers(int n) {
      if (!jobsSet && workers > 0) {
        concurrentJobs = Math.max(1, (int) ((long) concurrentJobs * n / workers));
        burstJobs = Math.max(1, (int) ((long) burstJobs * n / workers));
      }
      workers = n;
      identities = Math.min(identities, Math.max(1, n));
      return this;
    }

    public Builder hosts(int n) {
      hosts = n;
      return this;
    }

    public Builder schedulers(int n) {
      schedulers = n;
      return this;
    }

    public Builder warmup(Duration d) {
      warmup = d;
      return this;
    }

    public Builder duration(Duration d) {
      duration = d;
      return this;
    }

    public Builder concurrentJobs(int n) {
      concurrentJobs = n;
      burstJobs = n;
      jobsSet = true;
      return this;
    }

    public Builder stages(int n) {
      stages = n;
      return this;
    }

    public Builder replicas(int n) {
      replicas = n;
      return this;
    }

    public Builder stepsPerJob(int n) {
      stepsPerJob = n;
      return this;
    }

    public Builder checkpointEvery(int n) {
      checkpointEvery = n;
      return this;
    }

    public Builder paid(boolean b) {
      paid = b;
      return this;
    }

    public Builder compute(ComputeTime c) {
      compute = c;
      return this;
    }

    public Builder faulty(double share, FaultMode mode, double rate) {
      faultyShare = share;
      faultMode = mode;
      faultRate = rate;
      return this;
    }

    public Builder churnPerMinute(double c) {
      churnPerMinute = c;
      return this;
    }

    public Builder crashHosts(int n) {
      crashHosts = n;
      return this;
    }

    public Builder crashScheduler(boolean b) {
      crashScheduler = b;
      return this;
    }

    public Builder joinDuringRun(boolean b) {
      joinDuringRun = b;
      return this;
    }

    public Builder identities(int n) {
      identities = n;
      return this;
    }

    public Builder drainTimeout(Duration d) {
      drainTimeout = d;
      return this;
    }

    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /** The parameters, validated. */
    public ScenarioParameters build() {
      return new ScenarioParameters(
          workers,
          hosts,
          schedulers,
          warmup,
          duration,
          concurrentJobs,
          burstJobs,
          stages,
          replicas,
          stepsPerJob,
          checkpointEvery,
          paid,
          compute,
          faultyShare,
          faultMode,
          faultRate,
          churnPerMinute,
          crashHosts,
          crashScheduler,
          joinDuringRun,
          identities,
          drainTimeout,
          seed);
    }
  }
}
