package io.flotilla.protocol.job;

/** How many workers compute each task. */
public enum RedundancyMode {
  /** One worker per task; results are trusted. */
  NONE,
  /** A fixed number of workers (2..5) per task; a quorum must agree. */
  FIXED,
  /** Replication falls as a worker proves itself; spot checks cover the rest. */
  ADAPTIVE
}
