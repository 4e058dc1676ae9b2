package io.flotilla.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The summary of a run describes its measured window only; the per-second series keep it all. */
class LoadMetricsTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long MILLI = 1_000_000L;

  /** One step-to-step dispatch at {@code at} whose round ended {@code latencyMs} before. */
  private static void dispatch(LoadMetrics m, long at, long latencyMs) {
    m.dispatched(new StepClock.Preceding(StepClock.Round.STEP, at - latencyMs * MILLI), at);
  }

  @Test
  void warmUpAndDrainAreChartedButNotSummarised() {
    long start = 1_000 * SECOND;
    LoadMetrics m = new LoadMetrics(start);
    // Second 0 (warm-up): slow and few. Seconds 1 and 2 (measured): 4 and 2 dispatches at 1 ms
    // and 2 ms. Second 3 (drain): one very slow one.
    dispatch(m, start + SECOND / 2, 500);
    for (int i = 0; i < 4; i++) {
      dispatch(m, start + SECOND + i * MILLI, 1);
    }
    dispatch(m, start + 2 * SECOND, 2);
    dispatch(m, start + 2 * SECOND + MILLI, 2);
    dispatch(m, start + 3 * SECOND + MILLI, 900);

    m.measureFrom(start + SECOND / 3); // the first whole second after it: second 1
    m.measureUntil(start + 3 * SECOND + MILLI); // the last whole second before it: second 2

    assertThat(m.measuredFromSecond()).isEqualTo(1);
    assertThat(m.measuredUntilSecond()).isEqualTo(3);
    assertThat(m.stepLatencySamples()).isEqualTo(6);
    assertThat(m.stepLatencyMillis(0.5)).isEqualTo(1.0);
    assertThat(m.stepLatencyMillis(1.0)).isEqualTo(2.0);
    assertThat(m.dispatchesPerSecond()).isEqualTo(3.0);
    assertThat(m.dispatches()).as("the whole run still counts").isEqualTo(8);
    assertThat(m.seconds()).hasSize(4);
    assertThat(m.seconds().get(0).p50Millis()).isEqualTo(500.0);
  }

  @Test
  void withoutAWindowTheWholeRunIsSummarisedAndIdleSecondsDoNotDiluteTheRate() {
    long start = 50 * SECOND;
    LoadMetrics m = new LoadMetrics(start);
    dispatch(m, start + 3 * SECOND, 4); // seconds 0..2 had no dispatch (workers were joining)
    dispatch(m, start + 3 * SECOND + MILLI, 6);

    assertThat(m.measuredFromSecond()).isZero();
    assertThat(m.stepLatencySamples()).isEqualTo(2);
    assertThat(m.stepLatencyMillis(1.0)).isEqualTo(6.0);
    assertThat(m.dispatchesPerSecond()).isEqualTo(2.0);
  }
}
