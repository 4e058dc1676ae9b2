package io.flotilla.scheduler.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One timer serves a deadline armed again at every step. */
class RollingDeadlineTest {

  private static final long S = 1_000_000_000L;

  private long now;
  private final List<Long> timers = new ArrayList<>();
  private final RollingDeadline deadline = new RollingDeadline(() -> now, timers::add);

  /** Arms a 20 s step deadline at second {@code second}. */
  private void stepAt(long second, String what) {
    now = second * S;
    deadline.arm(Duration.ofSeconds(20), what);
  }

  @Test
  void armingAgainBeforeThePendingTimerStartsNoTimer() {
    stepAt(0, "step 0");
    stepAt(5, "step 1");
    stepAt(9, "step 2");

    assertThat(timers).containsExactly(20 * S);
  }

  @Test
  void aTimerFiringBeforeTheDeadlineStartsItselfForWhatIsLeft() {
    stepAt(0, "step 0");
    stepAt(9, "step 1");
    now = 20 * S;

    assertThat(deadline.fired()).isNull();
    assertThat(timers).containsExactly(20 * S, 9 * S);

    now = 29 * S;
    assertThat(deadline.fired()).isEqualTo("step 1");
    assertThat(timers).hasSize(2);
    // Expired once: the same timer firing again (a stray one) expires nothing.
    assertThat(deadline.fired()).isNull();
  }

  @Test
  void aShorterDeadlineThanThePendingTimerStartsAnEarlierOne() {
    deadline.arm(Duration.ofMinutes(3), "preparing");
    now = S;
    deadline.arm(Duration.ofSeconds(20), "step 0");

    assertThat(timers).containsExactly(180 * S, 20 * S);
    now = 21 * S;
    assertThat(deadline.fired()).isEqualTo("step 0");
  }

  @Test
  void aDisarmedDeadlineExpiresNothingAndStopsTheTimer() {
    deadline.arm(Duration.ofSeconds(20), "the checkpoint after step 50");
    deadline.disarm();
    now = 60 * S;

    assertThat(deadline.fired()).isNull();
    assertThat(timers).containsExactly(20 * S);

    // Armed after the timer fired: a new timer, for the new deadline.
    stepAt(60, "step 51");
    assertThat(timers).containsExactly(20 * S, 20 * S);
    now = 80 * S;
    assertThat(deadline.fired()).isEqualTo("step 51");
  }
}
