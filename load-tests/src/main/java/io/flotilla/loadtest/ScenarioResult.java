package io.flotilla.loadtest;

import java.util.List;
import java.util.Map;

/**
 * What a scenario run measured and whether its invariants held.
 *
 * @param scenario the scenario
 * @param parameters what it ran with
 * @param metrics what the workers and the ledger recorded
 * @param checks the invariants and whether each held
 * @param jobsByPhase the jobs at the end, counted by phase
 * @param joinSeconds how long the workers took to appear in the scheduler's registry
 * @param runSeconds the whole run, drain included
 * @param busyWorkers workers that ran at least one step
 * @param corruptedResults results the faulty workers corrupted
 * @param interruptions job interruptions, by cause
 */
public record ScenarioResult(
    Scenario scenario,
    ScenarioParameters parameters,
    LoadMetrics metrics,
    List<Check> checks,
    Map<String, Long> jobsByPhase,
    double joinSeconds,
    double runSeconds,
    long busyWorkers,
    long corruptedResults,
    Map<String, Long> interruptions) {

  /** One invariant: its name, whether it held, and what was seen. */
  public record Check(String name, boolean passed, String detail) {}

  /** Whether every invariant held. */
  public boolean passed() {
    return checks.stream().allMatch(Check::passed);
  }

  /** Task dispatches per second in the measured window (see {@link LoadMetrics}). */
  public double dispatchesPerSecond() {
    return metrics.dispatchesPerSecond();
  }

  /** The best whole second of dispatches in the measured window. */
  public long peakDispatchesPerSecond() {
    List<LoadMetrics.Second> seconds = metrics.seconds();
    long best = 0;
    for (int s = metrics.measuredFromSecond(); s < metrics.measuredUntilSecond(); s++) {
      best = Math.max(best, seconds.get(s).dispatches());
    }
    return best;
  }
}
