package io.flotilla.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * CI's short version of every load scenario: a few seconds each at tens of simulated workers,
 * against the real scheduler, registry, verifier and ledger bridge. Each asserts the scenario's
 * invariants and that its report was written; the numbers themselves are for BENCHMARKS.md, not
 * pass or fail.
 */
@ExtendWith(LogCapturingExtension.class)
class ScenarioSmokeTest {

  @ParameterizedTest
  @EnumSource(Scenario.class)
  void scenarioHoldsItsInvariants(Scenario scenario) throws Exception {
    ScenarioParameters parameters = scenario.parameters(Scenario.Size.SMOKE);
    ScenarioResult result =
        new ScenarioRunner(scenario, parameters, ConfigFactory.empty(), null).run();
    Path dir = Path.of("target/load-reports/smoke", scenario.cliName());
    LoadReport.write(result, dir);

    assertThat(result.checks())
        .allSatisfy(c -> assertThat(c.passed()).as("%s: %s", c.name(), c.detail()).isTrue());
    assertThat(result.metrics().dispatches()).as("steps were dispatched").isPositive();
    assertThat(result.jobsByPhase()).containsKey("COMPLETED");
    assertThat(dir.resolve("report.md")).exists();
    assertThat(dir.resolve("report.html")).exists();
    assertThat(Files.size(dir.resolve("throughput.png"))).isPositive();
    if (scenario == Scenario.STEADY) {
      // Jobs in flight at once spread over idle workers (the placement board), not onto the
      // fastest P x D.
      assertThat(result.busyWorkers())
          .as("workers that ran steps")
          .isGreaterThan(2L * parameters.stages() * parameters.replicas());
    }
    if (parameters.faultyShare() > 0) {
      assertThat(result.corruptedResults()).as("faulty workers corrupted results").isPositive();
      assertThat(result.metrics().rejectedResults()).as("the vote rejected some").isPositive();
    }
    if (parameters.paid()) {
      assertThat(result.metrics().receiptsSettled()).as("receipts settled").isPositive();
    }
    if (parameters.churnPerMinute() > 0 || parameters.crashHosts() > 0) {
      assertThat(result.metrics().recoveries())
          .as(
              "lost workers' jobs resumed (jobs by phase %s, interruptions %s)",
              result.jobsByPhase(), result.interruptions())
          .isNotEmpty();
    }
  }
}
