package io.flotilla.ledger;

/**
 * Called at each {@link CrashPoint} of a settlement. Production uses {@link #NONE}; tests pass a
 * hook that throws there to simulate the process dying at that exact moment.
 */
@FunctionalInterface
public interface SettlementHook {

  /** Does nothing. */
  SettlementHook NONE = (point, batchId) -> {};

  /** Called when settlement of {@code batchId} reaches {@code point}. */
  void reached(CrashPoint point, String batchId);
}
