package io.flotilla.protocol.job;

/** What a job's price is paid for. */
public enum PricingUnit {
  /** The job pays nothing. */
  NONE,
  /** Per billion floating-point operations of verified work. */
  PER_GFLOP,
  /** Per verified task (one stage's forward and backward on one micro-batch). */
  PER_TASK;

  /** The spelling in a spec file. */
  public String specName() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
