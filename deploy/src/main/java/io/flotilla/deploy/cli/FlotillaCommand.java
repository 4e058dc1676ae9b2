package io.flotilla.deploy.cli;

import io.flotilla.engine.cli.ModelCommand;
import io.flotilla.engine.cli.TrainLocalCommand;
import io.flotilla.ledger.cli.LedgerCommand;
import io.flotilla.scheduler.cli.CancelCommand;
import io.flotilla.scheduler.cli.FetchCommand;
import io.flotilla.scheduler.cli.JobCommand;
import io.flotilla.scheduler.cli.JobsCommand;
import io.flotilla.scheduler.cli.PlanCommand;
import io.flotilla.scheduler.cli.SubmitCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code flotilla} command. */
@Command(
    name = "flotilla",
    mixinStandardHelpOptions = true,
    version = "Flotilla 0.1.0-SNAPSHOT",
    description = "Train neural networks on machines that volunteers lend.",
    subcommands = {
      DemoCommand.class,
      LoadTestCommand.class,
      SeedCommand.class,
      WorkerCommand.class,
      SchedulerCommand.class,
      ClusterCommand.class,
      PlanCommand.class,
      TrainLocalCommand.class,
      ModelCommand.class,
      SubmitCommand.class,
      JobsCommand.class,
      JobCommand.class,
      CancelCommand.class,
      FetchCommand.class,
      LedgerCommand.class,
      BenchCommand.class
    })
public final class FlotillaCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return 2;
  }

  /** Entry point of the launcher. */
  public static void main(String[] args) {
    // Libraries that log through java.util.logging (netlib BLAS) follow the node's log settings
    // instead of printing to stderr on their own.
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (0 ok, 1 failure, 2 bad usage). */
  public static int execute(String... args) {
    return new CommandLine(new FlotillaCommand()).execute(args);
  }
}
