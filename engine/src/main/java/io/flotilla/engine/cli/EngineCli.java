package io.flotilla.engine.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Stand-alone entry point for the engine's commands ({@code train-local}, {@code model}, {@code
 * bench engine}); the distribution's {@code flotilla} command registers the same classes.
 */
@Command(
    name = "flotilla-engine",
    mixinStandardHelpOptions = true,
    description = "Flotilla compute engine commands.",
    subcommands = {TrainLocalCommand.class, ModelCommand.class, EngineCli.Bench.class})
public final class EngineCli implements Callable<Integer> {

  /** {@code bench} group holding {@code engine}. */
  @Command(
      name = "bench",
      mixinStandardHelpOptions = true,
      description = "Benchmarks.",
      subcommands = {BenchEngineCommand.class})
  public static final class Bench implements Callable<Integer> {
    @Override
    public Integer call() {
      System.err.println("error: choose a benchmark: engine");
      return 2;
    }
  }

  @Override
  public Integer call() {
    System.err.println("error: choose a command (see --help)");
    return 2;
  }

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new EngineCli()).execute(args));
  }
}
