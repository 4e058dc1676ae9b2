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
      defaultValue = "4",
      description = "Number of workers (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--job",
      paramLabel = "JOB.yaml",
      description = "Job spec to train (default: the bundled examples/addition-gpt.yaml).")
  java.nio.file.Path job;

  @Option(
      names = "--steps",
      defaultValue = "700",
      description =
          "Optimizer steps to train, at most the spec's training.steps (default"
              + " ${DEFAULT-VALUE}); 0 skips training and only shows the cluster.")
  long steps;

  @Option(
      names = "--out",
      defaultValue = "run/demo",
      description = "Where the model and stage checkpoints go (default ${DEFAULT-VALUE}).")
  java.nio.file.Path outputDir;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "90",
      description =
          "Give up when the cluster is not ready after this long (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(
      names = "--processes",
      description =
          "Run each worker in its own JVM (separate processes on loopback) instead of in this"
              + " process.")
  boolean processes;

  @Option(names = "--verbose", description = "Show the nodes' logs.")
  boolean verbose;

  /** The phases, in order. */
  protected List<DemoPhase> phases(io.flotilla.protocol.job.JobSpec spec) {
    List<DemoPhase> phases = new ArrayList<>();
    phases.add(new StatusPhase());
    if (spec != null) {
      phases.add(new io.flotilla.deploy.DemoTraining(spec, steps, outputDir));
    }
    return phases;
  }

  /** The job to train: --job, else the bundled example; null when training is off. */
  private io.flotilla.protocol.job.JobSpec loadSpec() throws java.io.IOException {
    if (steps == 0) {
      return null;
    }
    if (job != null) {
      return io.flotilla.protocol.job.JobSpecParser.parse(job);
    }
    try (var in = DemoCommand.class.getResourceAsStream("/examples/addition-gpt.yaml")) {
      if (in == null) {
        throw new java.io.FileNotFoundException("bundled examples/addition-gpt.yaml is missing");
      }
      return io.flotilla.protocol.job.JobSpecParser.parse(
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  @Override
  public Integer call() throws Exception {
    if (workers < 1 || workers > 32) {
      System.err.println("error: --workers must be in 1..32, was " + workers);
      return 2;
    }
    if (steps < 0) {
      System.err.println("error: --steps must be >= 0, was " + steps);
      return 2;
    }
    io.flotilla.protocol.job.JobSpec spec;
    try {
      spec = loadSpec();
    } catch (io.flotilla.protocol.job.InvalidJobSpecException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    } catch (java.io.IOException e) {
      System.err.println("error: cannot read the job spec: " + e.getMessage());
      return 2;
    }
    if (!verbose) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(Level.ERROR);
    }
    PrintStream out = System.out;
    out.printf("Starting a local cluster: 1 seed, 1 scheduler, %d workers ...%n", workers);
    long t0 = System.nanoTime();
    // Separate JVMs on one machine compete for its cores far more than threads in one process
    // (each its own JIT and GC): give the failure detector the slack of a real network.
    com.typesafe.config.Config base =
        processes
            ? com.typesafe.config.ConfigFactory.parseString(
                    "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 10s\n"
                        + "pekko.cluster.split-brain-resolver.stable-after = 10s")
                .withFallback(LocalCluster.demoConfig())
            : LocalCluster.demoConfig();
    try (LocalCluster cluster = LocalCluster.start(base, processes ? 0 : workers, false, true)) {
      if (processes) {
        cluster.startWorkerProcesses(
            1,
            workers,
            com.typesafe.config.ConfigFactory.parseString(
                    "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = on")
                .withFallback(base),
            verbose);
        out.printf(
            "Workers run as %d separate JVMs; their logs: %s%n",
            workers, cluster.journalDirectory().resolve("worker-N.log"));
      }
      if (!cluster.awaitReady(Duration.ofSeconds(timeoutSeconds))) {
        System.err.printf(
            "error: the local cluster was not ready within %d s (registered: %s)%n",
            timeoutSeconds, cluster.registryIds());
        return 1;
      }
      out.printf(
          "All %d nodes Up and %d workers registered after %d ms.%n%n",
          workers + 2, workers, (System.nanoTime() - t0) / 1_000_000);
      for (DemoPhase phase : phases(spec)) {
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
