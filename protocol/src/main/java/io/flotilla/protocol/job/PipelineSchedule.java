package io.flotilla.protocol.job;

/** Order in which micro-batches flow through pipeline stages. */
public enum PipelineSchedule {
  /** All forwards, then all backwards: stashes M micro-batches of activations per stage. */
  GPIPE,
  /** One forward, one backward in steady state: stashes at most P micro-batches per stage. */
  ONE_F_ONE_B;

  /** The spelling in a spec file. */
  public String specName() {
    return this == GPIPE ? "gpipe" : "1f1b";
  }
}
