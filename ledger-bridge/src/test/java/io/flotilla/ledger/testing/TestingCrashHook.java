package io.flotilla.ledger.testing;

import io.flotilla.ledger.CrashPoint;
import io.flotilla.ledger.SettlementHook;
import java.util.concurrent.atomic.AtomicInteger;

/** Dies (throws {@link SimulatedCrash}) the first time a settlement reaches {@code point}. */
public final class TestingCrashHook implements SettlementHook {

  private final CrashPoint point;
  private final AtomicInteger crashes = new AtomicInteger();

  /** Crashing at {@code point}. */
  public TestingCrashHook(CrashPoint point) {
    this.point = point;
  }

  @Override
  public void reached(CrashPoint reached, String batchId) {
    if (reached == point && crashes.getAndIncrement() == 0) {
      throw new SimulatedCrash(point + " of batch " + batchId);
    }
  }

  /** How many times the point was reached. */
  public int timesReached() {
    return crashes.get();
  }
}
