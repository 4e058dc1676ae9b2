package io.flotilla.deploy.cli;

import ch.qos.logback.classic.Level;
import io.flotilla.deploy.LocalCluster;
import io.flotilla.engine.cli.BenchEngineCommand;
import io.flotilla.worker.WorkerNode;
import io.flotilla.worker.cli.PipelineBenchCommand;
import io.flotilla.worker.cli.TransportBenchCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla bench ...}: measurements. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measurements.",
    subcommands = {
      BenchCommand.Cluster.class,
      BenchEngineCommand.class,
      TransportBenchCommand.class,
      PipelineBenchCommand.class,
      VerificationBenchCommand.class
    })
public final class BenchCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    new picocli.CommandLine(this).usage(System.err);
    return 2;
  }

  /** {@code flotilla bench cluster}: join and crash-detection times of an in-process cluster. */
  @Command(
      name = "cluster",
      mixinStandardHelpOptions = true,
      description = {
        "Start 1 seed + N workers (+ a scheduler) in this process (local-demo timing), measure the",
        "time until all are Up and registered, crash one worker (terminate without leaving) and",
        "measure the time until it left the seed's registry. Repeats and prints the medians."
      })
  public static final class Cluster implements Callable<Integer> {

    @Option(
        names = "--workers",
        defaultValue = "3",
        description = "Workers (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--with-scheduler", description = "Also start a scheduler node.")
    boolean withScheduler;

    @Option(names = "--runs", defaultValue = "3", description = "Runs (default ${DEFAULT-VALUE}).")
    int runs;

    @Override
    public Integer call() throws Exception {
      if (workers < 1 || runs < 1) {
        System.err.println("error: --workers and --runs must be >= 1");
        return 2;
      }
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(Level.ERROR);
      List<Long> upMs = new ArrayList<>();
      List<Long> goneMs = new ArrayList<>();
      for (int run = 1; run <= runs; run++) {
        long t0 = System.nanoTime();
        try (LocalCluster cluster =
            LocalCluster.start(LocalCluster.demoConfig(), workers, true, withScheduler)) {
          if (!cluster.awaitReady(Duration.ofSeconds(60))) {
            System.err.println("error: cluster not ready within 60 s");
            return 1;
          }
          long up = (System.nanoTime() - t0) / 1_000_000;
          WorkerNode victim = cluster.workers().get(cluster.workers().size() - 1);
          Set<String> rest = new TreeSet<>(cluster.registryIds());
          rest.remove(victim.workerId());
          long t1 = System.nanoTime();
          victim.node().crash();
          if (!cluster.awaitRegistry(rest, System.nanoTime() + Duration.ofSeconds(60).toNanos())) {
            System.err.println("error: crashed worker still registered after 60 s");
            return 1;
          }
          long gone = (System.nanoTime() - t1) / 1_000_000;
          upMs.add(up);
          goneMs.add(gone);
          System.out.printf(
              Locale.ROOT,
              "run %d/%d: all Up and registered after %d ms; crashed worker left the registry after"
                  + " %d ms%n",
              run,
              runs,
              up,
              gone);
        }
      }
      System.out.printf(
          Locale.ROOT,
          "median over %d runs (1 seed + %s%d workers, one JVM): Up+registered %d ms,"
              + " crash to removal %d ms%n",
          runs,
          withScheduler ? "1 scheduler + " : "",
          workers,
          median(upMs),
          median(goneMs));
      return 0;
    }

    private static long median(List<Long> values) {
      List<Long> sorted = new ArrayList<>(values);
      Collections.sort(sorted);
      return sorted.get(sorted.size() / 2);
    }
  }
}
