package io.flotilla.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every scenario at full size (thousands of workers, a minute of load each), run by {@code -Pload};
 * reports under {@code target/load-reports/full}. Not part of the normal build.
 */
class FullLoadTest {

  @ParameterizedTest
  @EnumSource(Scenario.class)
  void fullSize(Scenario scenario) throws Exception {
    ScenarioResult result =
        new ScenarioRunner(
                scenario,
                scenario.parameters(Scenario.Size.FULL),
                ConfigFactory.empty(),
                System.err)
            .run();
    LoadReport.write(result, Path.of("target/load-reports/full", scenario.cliName()));
    assertThat(result.checks())
        .allSatisfy(c -> assertThat(c.passed()).as("%s: %s", c.name(), c.detail()).isTrue());
  }
}
