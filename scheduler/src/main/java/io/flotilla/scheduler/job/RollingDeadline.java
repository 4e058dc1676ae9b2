package io.flotilla.scheduler.job;

import java.time.Duration;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * A deadline that is armed again at every step with one timer, not one per step. A timer that is
 * pending and fires earlier than the new deadline stays; when it fires before the deadline it is
 * started again for what is left. A timer per step lingered in the scheduler's timer wheel for the
 * whole step timeout (a cancelled timer is not removed before its time), thousands per second, and
 * the garbage collector copied each of them from young to old generation.
 *
 * <p>Not thread-safe: the actor that owns it calls every method.
 */
final class RollingDeadline {

  private final LongSupplier nanoClock;
  private final LongConsumer startTimer;
  private long deadlineNanos;
  private boolean armed;
  private String what;
  private long timerDueNanos;
  private boolean timerPending;

  /**
   * @param nanoClock the time, as {@link System#nanoTime()}
   * @param startTimer starts (or restarts) the owner's one timer to fire after so many nanoseconds,
   *     replacing a pending one; the owner calls {@link #fired} when it fires
   */
  RollingDeadline(LongSupplier nanoClock, LongConsumer startTimer) {
    this.nanoClock = nanoClock;
    this.startTimer = startTimer;
  }

  /** Gives what is under way ({@code what}, named when it expires) {@code timeout} from now. */
  void arm(Duration timeout, String what) {
    long now = nanoClock.getAsLong();
    this.deadlineNanos = now + Math.max(1, timeout.toNanos());
    this.what = what;
    this.armed = true;
    if (!timerPending || timerDueNanos - deadlineNanos > 0) {
      start(now, deadlineNanos - now);
    }
  }

  /** Nothing is waited for any more; a pending timer fires to no effect. */
  void disarm() {
    armed = false;
  }

  /**
   * The owner's timer fired.
   *
   * @return what expired, or null when the deadline is disarmed or still ahead (the timer is then
   *     started again for what is left)
   */
  String fired() {
    timerPending = false;
    if (!armed) {
      return null;
    }
    long now = nanoClock.getAsLong();
    long left = deadlineNanos - now;
    if (left > 0) {
      start(now, left);
      return null;
    }
    armed = false;
    return what;
  }

  private void start(long now, long nanos) {
    timerPending = true;
    timerDueNanos = now + nanos;
    startTimer.accept(nanos);
  }
}
