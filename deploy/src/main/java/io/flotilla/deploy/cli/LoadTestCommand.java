package io.flotilla.deploy.cli;

import ch.qos.logback.classic.Level;
import com.typesafe.config.ConfigFactory;
import io.flotilla.loadtest.ComputeTime;
import io.flotilla.loadtest.LoadReport;
import io.flotilla.loadtest.Scenario;
import io.flotilla.loadtest.ScenarioParameters;
import io.flotilla.loadtest.ScenarioResult;
import io.flotilla.loadtest.ScenarioRunner;
import io.flotilla.worker.fault.FaultMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code flotilla loadtest SCENARIO}: runs a load scenario in this process against the real
 * scheduler with simulated volunteers, shows a live progress line on stderr and writes a report.
 */
@Command(
    name = "loadtest",
    mixinStandardHelpOptions = true,
    description = {
      "Run a load scenario: a seed, real scheduler node(s) and many simulated volunteers in this",
      "process. Scenarios: steady, burst, join, churn, faulty, ledger-flood, scheduler-crash",
      "(docs/load-tests.md). Writes report.md, report.html and PNG charts to --out; exits 1 when",
      "an invariant failed."
    })
public final class LoadTestCommand implements Callable<Integer> {

  @Parameters(index = "0", description = "The scenario.")
  String scenario;

  @Option(names = "--smoke", description = "Start from the scenario's smoke size (CI's).")
  boolean smoke;

  @Option(names = "--workers", description = "Simulated workers (jobs in flight scale along).")
  Integer workers;

  @Option(names = "--hosts", description = "Volunteer host nodes the workers are spread over.")
  Integer hosts;

  @Option(
      names = "--warmup",
      description =
          "How long jobs run before the measured window opens, e.g. 20s (full size: 20s, smoke:"
              + " 0s). Its seconds are charted, not summarised.")
  String warmup;

  @Option(
      names = "--duration",
      description = "How long jobs are submitted after the warm-up, e.g. 60s or 2m.")
  String duration;

  @Option(names = "--jobs", description = "Jobs in flight (burst: jobs submitted at once).")
  Integer jobs;

  @Option(names = "--stages", description = "Pipeline stages per job.")
  Integer stages;

  @Option(names = "--replicas", description = "Replicas per job.")
  Integer replicas;

  @Option(names = "--steps", description = "Steps per job.")
  Integer steps;

  @Option(names = "--checkpoint-every", description = "Steps between checkpoints.")
  Integer checkpointEvery;

  @Option(names = "--paid", arity = "0..1", description = "Whether jobs pay their workers.")
  Boolean paid;

  @Option(names = "--compute-ms", description = "Median simulated step time in milliseconds.")
  Double computeMs;

  @Option(names = "--compute-sigma", description = "Spread (log-normal sigma) of step times.")
  Double computeSigma;

  @Option(names = "--faulty", description = "Share of faulty workers, 0..1.")
  Double faulty;

  @Option(names = "--fault", description = "Their fault mode (flotilla worker --fault names).")
  String fault;

  @Option(names = "--fault-rate", description = "Share of their tasks they corrupt.")
  Double faultRate;

  @Option(names = "--churn", description = "Share of workers leaving (and joining) per minute.")
  Double churn;

  @Option(names = "--crash-hosts", description = "Volunteer hosts crashed mid-run.")
  Integer crashHosts;

  @Option(names = "--seed", description = "Seed of every draw.")
  Long seed;

  @Option(
      names = "--out",
      defaultValue = "loadtest-report",
      description = "Report directory (default ${DEFAULT-VALUE}/SCENARIO).")
  Path out;

  @Override
  public Integer call() throws Exception {
    String logLevel = System.getenv("FLOTILLA_LOG_LEVEL");
    if (logLevel == null || logLevel.isBlank()) {
      // Warnings only, unless asked for more: thousands of workers' info lines bury the progress.
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(Level.WARN);
    }
    Scenario s;
    ScenarioParameters parameters;
    try {
      s = Scenario.parse(scenario);
      parameters = parameters(s);
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    ScenarioResult result =
        new ScenarioRunner(s, parameters, ConfigFactory.empty(), System.err).run();
    Path report = LoadReport.write(result, out.resolve(s.cliName()));
    System.out.println(java.nio.file.Files.readString(report));
    System.out.println("Report: " + report.toAbsolutePath() + " (and report.html)");
    return result.passed() ? 0 : 1;
  }

  /** The scenario's defaults at the size asked for, changed by the options given. */
  private ScenarioParameters parameters(Scenario s) {
    ScenarioParameters base = s.parameters(smoke ? Scenario.Size.SMOKE : Scenario.Size.FULL);
    ScenarioParameters.Builder b = base.toBuilder();
    if (workers != null) {
      b.workers(workers);
    }
    if (hosts != null) {
      b.hosts(hosts);
    }
    if (warmup != null) {
      b.warmup(parseDuration("--warmup", warmup));
    }
    if (duration != null) {
      b.duration(parseDuration("--duration", duration));
    }
    if (jobs != null) {
      b.concurrentJobs(jobs);
    }
    if (stages != null) {
      b.stages(stages);
    }
    if (replicas != null) {
      b.replicas(replicas);
    }
    if (steps != null) {
      b.stepsPerJob(steps);
    }
    if (checkpointEvery != null) {
      b.checkpointEvery(checkpointEvery);
    }
    if (paid != null) {
      b.paid(paid);
    }
    if (computeMs != null || computeSigma != null) {
      b.compute(
          new ComputeTime(
              computeMs != null ? computeMs : base.compute().medianMillis(),
              computeSigma != null ? computeSigma : base.compute().sigma()));
    }
    if (faulty != null || fault != null || faultRate != null) {
      b.faulty(
          faulty != null ? faulty : base.faultyShare(),
          fault != null ? FaultMode.parse(fault) : base.faultMode(),
          faultRate != null ? faultRate : base.faultRate());
    }
    if (churn != null) {
      b.churnPerMinute(churn);
    }
    if (crashHosts != null) {
      b.crashHosts(crashHosts);
    }
    if (seed != null) {
      b.seed(seed);
    }
    return b.build();
  }

  private static Duration parseDuration(String option, String text) {
    try {
      return ConfigFactory.parseString("d = \"" + text.replace("\"", "") + "\"").getDuration("d");
    } catch (com.typesafe.config.ConfigException e) {
      throw new IllegalArgumentException(
          option
              + " '"
              + text
              + "' is not a duration; allowed: a number and a unit, e.g. 90s or 2m");
    }
  }
}
