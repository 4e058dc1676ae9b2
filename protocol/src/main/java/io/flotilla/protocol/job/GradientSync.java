package io.flotilla.protocol.job;

/** How data-parallel replicas of a stage combine their work. */
public enum GradientSync {
  /** Average gradients with an all-reduce every step (synchronous data parallelism). */
  ALLREDUCE,
  /** Take H local steps, then average parameter deltas with an outer Nesterov optimizer. */
  DILOCO;

  /** The spelling in a spec file. */
  public String specName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
