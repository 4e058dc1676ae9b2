package io.flotilla.scheduler.cli;

import io.flotilla.protocol.job.InvalidJobSpecException;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.scheduler.planner.PlanRenderer;
import io.flotilla.scheduler.planner.PlanRequest;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.planner.Planner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla plan JOB.yaml --workers FILE}: validates a job spec and prints how the planner
 * would cut and place it on the given workers, without running anything.
 *
 * <p>Exit codes: 0 a plan was found, 1 the job would wait (not enough workers or memory), 2 the
 * spec or the workers file is invalid.
 */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = {
      "Show how a job would be split into pipeline stages and placed on workers.",
      "Exit codes: 0 plan found, 1 the job would wait for workers or memory, 2 invalid input."
    })
public final class PlanCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "JOB.yaml", description = "The job spec (YAML or JSON).")
  Path jobFile;

  @Option(
      names = "--workers",
      paramLabel = "FILE",
      required = true,
      description =
          "Registry snapshot (JSON or YAML): {\"workers\": [{\"id\", \"gflops\", \"memory_mib\","
              + " \"cores\"}], \"links\": {\"default\": {\"latency_ms\", \"bandwidth_mbit_s\"},"
              + " \"pairs\": [{\"a\", \"b\", ...}]}}.")
  Path workersFile;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    JobSpec job;
    try {
      job = JobSpecParser.parse(jobFile);
    } catch (InvalidJobSpecException e) {
      err.println(jobFile + ": " + e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("cannot read " + jobFile + ": " + e.getMessage());
      return 2;
    }
    WorkersFile workers;
    try {
      workers = WorkersFile.read(workersFile);
    } catch (IllegalArgumentException e) {
      err.println(workersFile + ": " + e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("cannot read " + workersFile + ": " + e.getMessage());
      return 2;
    }
    PlanResult result = Planner.plan(PlanRequest.forSpec(job, workers.workers(), workers.links()));
    out.print(PlanRenderer.render(result));
    out.flush();
    return result instanceof PlanResult.Plan ? 0 : 1;
  }
}
