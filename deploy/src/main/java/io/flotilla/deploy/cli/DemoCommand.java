package io.flotilla.deploy.cli;

import ch.qos.logback.classic.Level;
import io.flotilla.deploy.ClusterStatus;
import io.flotilla.deploy.LocalCluster;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flotilla demo}: the main job. Starts a seed, a scheduler and N workers in this process,
 * waits until all are Up and registered, then runs its phases in order. A phase is a {@link
 * DemoPhase}; training plugs in as one more.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Start a local cluster in this process (seed, scheduler, N workers on loopback),",
      "wait until every node is Up and every worker registered, print the cluster status."
    })
public final class DemoCommand implements Callable<Integer> {

  /** One step of the demo, run against the ready local cluster. */
  public interface DemoPhase {
    /** Short name shown in the progress line. */
    String name();

    /** Runs the phase; returns 0 on success, non-zero on failure. */
    int run(LocalCluster cluster, PrintStream out) throws Exception;
  }

  /** Prints the cluster status table, fetched over the seed's HTTP endpoint. */
  public static final class StatusPhase implements DemoPhase {
    @Override
    public String name() {
      return "cluster status";
    }

    @Override
    public int run(LocalCluster cluster, PrintStream out) throws Exception {
      ClusterStatus status =
          ClusterStatus.fetch(cluster.seed().httpUri().orElseThrow(), Duration.ofSeconds(5));
      out.println(status.toTable());
      return 0;
    }
  }

  @Option(
      names = "--workers",
      defaultValue = "3",
      description = "Number of workers (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "60",
      description =
          "Give up when the cluster is not ready after this long (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--verbose", description = "Show the nodes' logs.")
  boolean verbose;

  /** The phases, in order; later issues add theirs (e.g. training) here. */
  protected List<DemoPhase> phases() {
    List<DemoPhase> phases = new ArrayList<>();
    phases.add(new StatusPhase());
    return phases;
  }

  @Override
  public Integer call() throws Exception {
    if (workers < 1 || workers > 32) {
      System.err.println("error: --workers must be in 1..32, was " + workers);
      return 2;
    }
    if (!verbose) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(Level.ERROR);
    }
    PrintStream out = System.out;
    out.printf("Starting a local cluster: 1 seed, 1 scheduler, %d workers ...%n", workers);
    long t0 = System.nanoTime();
    try (LocalCluster cluster =
        LocalCluster.start(LocalCluster.demoConfig(), workers, false, true)) {
      if (!cluster.awaitReady(Duration.ofSeconds(timeoutSeconds))) {
        System.err.printf(
            "error: the local cluster was not ready within %d s (registered: %s)%n",
            timeoutSeconds, cluster.registryIds());
        return 1;
      }
      out.printf(
          "All %d nodes Up and %d workers registered after %d ms.%n%n",
          workers + 2, workers, (System.nanoTime() - t0) / 1_000_000);
      for (DemoPhase phase : phases()) {
        out.println("== " + phase.name());
        int rc = phase.run(cluster, out);
        if (rc != 0) {
          System.err.println("error: demo phase '" + phase.name() + "' failed");
          return rc;
        }
      }
      out.println("Stopping the local cluster.");
    }
    return 0;
  }
}
