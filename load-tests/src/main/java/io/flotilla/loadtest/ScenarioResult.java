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

  /** Task dispatches per second over the time jobs were submitted and drained. */
  public double dispatchesPerSecond() {
    List<LoadMetrics.Second> seconds = metrics.seconds();
    long total = 0;
    int active = 0;
    for (LoadMetrics.Second s : seconds) {
      if (s.dispatches() > 0) {
        total += s.dispatches();
        active++;
      }
    }
    return active == 0 ? 0 : (double) total / active;
  }

  /** The best whole second of dispatches. */
  public long peakDispatchesPerSecond() {
    return metrics.seconds().stream().mapToLong(LoadMetrics.Second::dispatches).max().orElse(0);
  }
}
