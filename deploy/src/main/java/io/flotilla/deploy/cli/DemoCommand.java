package io.flotilla.deploy.cli;

import ch.qos.logback.classic.Level;
import io.flotilla.deploy.ClusterStatus;
import io.flotilla.deploy.DemoTraining;
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
      "wait until every node is Up and every worker registered, print the cluster",
      "status, then train the job on the workers. --faulty and --churn make things go",
      "wrong on purpose and end with a report of what the cluster did about it."
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

  /** Workers of the plain demo. */
  static final int DEFAULT_WORKERS = 4;

  /** Replicas per stage that a majority vote needs to outvote one faulty replica. */
  static final int VOTING_REPLICAS = 3;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description =
          "Number of workers (default 4; with --faulty or --churn: the job's stages x "
              + "replicas plus one spare, 7 for the bundled job with --faulty 1, 5 with --churn "
              + "alone).")
  Integer workers;

  @Option(
      names = "--faulty",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "N of the workers misbehave (fault mode noise: after each step they add noise "
              + "to their stage's parameters and report them). With N > 0 every stage runs at "
              + "least 3 replicas, so that its majority outvotes a faulty one: the bundled job "
              + "becomes 2 stages x 3 replicas (global batch 96, the same micro-batches) on 6 "
              + "placed workers, N of them faulty, and an honest spare joins once the job is "
              + "placed. N is at most (replicas - 1) / 2: 1 with 3 replicas (default "
              + "${DEFAULT-VALUE}).")
  int faulty;

  @Option(
      names = "--churn",
      description =
          "While training, crash one honest worker of the job's plan every --churn-every "
              + "steps (no leave, like a killed process) and start a fresh worker that joins; "
              + "the job is placed again and resumes from its last checkpoint (written every "
              + "half --churn-every steps).")
  boolean churn;

  @Option(
      names = "--churn-every",
      paramLabel = "K",
      description =
          "Completed steps between two kills (default: a quarter of --steps, so 3 kills).")
  Long churnEvery;

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
    return phases(spec, DemoTraining.Disruptions.NONE);
  }

  private List<DemoPhase> phases(
      io.flotilla.protocol.job.JobSpec spec, DemoTraining.Disruptions disruptions) {
    List<DemoPhase> phases = new ArrayList<>();
    phases.add(new StatusPhase());
    if (spec != null) {
      phases.add(new DemoTraining(spec, steps, outputDir, disruptions));
    }
    return phases;
  }

  /** Whether this run makes things go wrong on purpose. */
  private boolean disrupted() {
    return faulty > 0 || churn;
  }

  /** The kill interval: --churn-every, else a quarter of the steps. */
  private long churnInterval() {
    return churnEvery != null ? churnEvery : Math.max(1, steps / 4);
  }

  /**
   * Checks the options that do not depend on the job spec.
   *
   * @return the error for the user, or null when they are fine
   */
  private String usageError() {
    if (workers != null && (workers < 1 || workers > 32)) {
      return "--workers must be in 1..32, was " + workers;
    }
    if (steps < 0) {
      return "--steps must be >= 0, was " + steps;
    }
    if (faulty < 0) {
      return "--faulty must be >= 0 (the number of workers that misbehave), was " + faulty;
    }
    if (churnEvery != null && !churn) {
      return "--churn-every is the interval of --churn; add --churn";
    }
    if (disrupted() && steps == 0) {
      return (faulty > 0 ? "--faulty" : "--churn") + " needs training; --steps must be > 0";
    }
    if (disrupted() && processes) {
      return "--faulty and --churn run every worker in this process; leave out --processes";
    }
    if (churn && steps < 2) {
      return "--churn needs at least 2 steps, to kill a worker before the last; --steps was "
          + steps;
    }
    if (churn && (churnInterval() < 1 || churnInterval() >= steps)) {
      return "--churn-every must be in 1.."
          + (steps - 1)
          + " (completed steps between two kills, fewer than --steps "
          + steps
          + "), was "
          + churnInterval();
    }
    return null;
  }

  /**
   * The job as a disrupted run trains it: with faulty workers at least {@link #VOTING_REPLICAS}
   * replicas per stage (the global batch grows with them, so each replica's micro-batches stay as
   * they are), with churn a checkpoint at least every half kill interval.
   *
   * @throws IllegalArgumentException naming what is wrong with the options for this job
   */
  private io.flotilla.protocol.job.JobSpec shape(io.flotilla.protocol.job.JobSpec spec) {
    var p = spec.parallelism();
    var t = spec.training();
    int replicas = p.replicas();
    if (faulty > 0) {
      if (p.gradientSync() != io.flotilla.protocol.job.GradientSync.ALLREDUCE) {
        throw new IllegalArgumentException(
            "--faulty needs a job whose replicas vote after every step"
                + " (parallelism.gradient_sync allreduce); "
                + spec.name()
                + " uses "
                + p.gradientSync().name().toLowerCase(java.util.Locale.ROOT));
      }
      replicas = Math.max(VOTING_REPLICAS, replicas);
      int outvotable = (replicas - 1) / 2;
      if (faulty > outvotable) {
        throw new IllegalArgumentException(
            "--faulty must be in 0.."
                + outvotable
                + ", was "
                + faulty
                + ": each stage runs "
                + replicas
                + " replicas, and a majority of "
                + replicas
                + " outvotes at most "
                + outvotable
                + " faulty replica"
                + (outvotable == 1 ? "" : "s")
                + " (faulty workers may be placed in the same stage)");
      }
    }
    var training =
        new io.flotilla.protocol.job.TrainingSpec(
            t.steps(),
            spec.microBatchSize() * replicas * t.microBatches(),
            t.microBatches(),
            t.seed(),
            t.evalIntervalSteps(),
            t.optimizer(),
            t.schedule());
    var parallelism =
        new io.flotilla.protocol.job.ParallelismSpec(
            p.pipelineStages(), replicas, p.schedule(), p.gradientSync(), p.diloco());
    var checkpoint =
        churn
            ? new io.flotilla.protocol.job.CheckpointSpec(
                Math.min(spec.checkpoint().intervalSteps(), Math.max(1, churnInterval() / 2)),
                spec.checkpoint().keepLast())
            : spec.checkpoint();
    io.flotilla.protocol.job.JobSpec shaped =
        new io.flotilla.protocol.job.JobSpec(
            spec.name(),
            spec.description(),
            spec.model(),
            spec.dataset(),
            training,
            parallelism,
            spec.verification(),
            spec.payment(),
            checkpoint);
    var errors = io.flotilla.protocol.job.JobSpecParser.validate(shaped);
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(
          "the job cannot run with "
              + replicas
              + " replicas per stage: "
              + errors.stream().map(Object::toString).toList());
    }
    return shaped;
  }

  /** Settings of a disrupted run: restarts are expected, so they come quickly and often. */
  private static com.typesafe.config.Config disruptedConfig() {
    return com.typesafe.config.ConfigFactory.parseString(
        """
        flotilla.scheduler.jobs.restart-backoff-min = 200ms
        flotilla.scheduler.jobs.restart-backoff-max = 2s
        flotilla.scheduler.jobs.max-restarts = 50
        """);
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
    String usage = usageError();
    if (usage != null) {
      System.err.println("error: " + usage);
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
    if (!disrupted()) {
      return run(spec, workers == null ? DEFAULT_WORKERS : workers);
    }
    try {
      spec = shape(spec);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    int placed = spec.parallelism().pipelineStages() * spec.parallelism().replicas();
    int least = placed + faulty;
    int total = workers == null ? Math.min(32, placed + Math.max(1, faulty)) : workers;
    if (total < least || total > 32) {
      System.err.printf(
          "error: --workers must be in %d..32 with%s, was %d: %d placed (%d stages x %d"
              + " replicas)%s%n",
          least,
          (faulty > 0 ? " --faulty " + faulty : "") + (churn ? " --churn" : ""),
          total,
          placed,
          spec.parallelism().pipelineStages(),
          spec.parallelism().replicas(),
          faulty > 0 ? " and " + faulty + " to replace the faulty once quarantined" : "");
      return 2;
    }
    return runDisrupted(spec, placed, total);
  }

  /** The demo with faulty workers and/or churn: {@code placed} workers first, spares later. */
  private int runDisrupted(io.flotilla.protocol.job.JobSpec spec, int placed, int total)
      throws Exception {
    if (!verbose) {
      quietLogs();
    }
    PrintStream out = System.out;
    out.printf(
        "Starting a local cluster: 1 seed, 1 scheduler, %d workers (%d faulty) ...%n",
        placed, faulty);
    long t0 = System.nanoTime();
    com.typesafe.config.Config base = disruptedConfig().withFallback(LocalCluster.demoConfig());
    try (LocalCluster cluster = LocalCluster.start(base, placed - faulty, churn, true)) {
      List<String> faultyIds = new ArrayList<>();
      for (int i = 1; i <= faulty; i++) {
        String id = cluster.nextWorkerId();
        cluster.addWorker(
            id,
            com.typesafe.config.ConfigFactory.parseString(
                "flotilla.worker.fault { mode = noise, rate = 1.0, seed = " + i + " }"));
        faultyIds.add(id);
      }
      List<String> spares = new ArrayList<>();
      for (int i = placed + 1; i <= total; i++) {
        spares.add("worker-" + i);
      }
      if (!awaitReady(cluster)) {
        return 1;
      }
      out.printf(
          "All %d nodes Up and %d workers registered after %d ms.%n",
          placed + 2, placed, (System.nanoTime() - t0) / 1_000_000);
      var p = spec.parallelism();
      out.printf(
          "The job runs %d stages x %d replicas (global batch %d) on these %d workers; %s"
              + " once it is placed.%n",
          p.pipelineStages(),
          p.replicas(),
          spec.training().globalBatch(),
          placed,
          switch (spares.size()) {
            case 0 -> "no spare joins";
            case 1 -> spares.get(0) + " joins as a spare";
            default -> String.join(", ", spares) + " join as spares";
          });
      if (faulty > 0) {
        out.printf(
            "Faulty (fault mode noise, they do not say so): %s. Each stage's replicas vote on"
                + " their parameters after every step.%n",
            String.join(", ", faultyIds));
      }
      if (churn) {
        out.printf(
            "Churn: every %d completed steps an honest worker of the plan crashes and a fresh one"
                + " joins; checkpoints every %d steps.%n",
            churnInterval(), spec.checkpoint().intervalSteps());
      }
      out.println();
      var disruptions =
          new DemoTraining.Disruptions(faultyIds, spares, churn ? churnInterval() : 0);
      return runPhases(phases(spec, disruptions), cluster, out);
    }
  }

  private static void quietLogs() {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(Level.ERROR);
  }

  /** The plain demo with {@code workers} workers. */
  private int run(io.flotilla.protocol.job.JobSpec spec, int workers) throws Exception {
    if (!verbose) {
      quietLogs();
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
      if (!awaitReady(cluster)) {
        return 1;
      }
      out.printf(
          "All %d nodes Up and %d workers registered after %d ms.%n%n",
          workers + 2, workers, (System.nanoTime() - t0) / 1_000_000);
      return runPhases(phases(spec), cluster, out);
    }
  }

  /** Waits until every node is Up and every worker registered; says so on stderr if not. */
  private boolean awaitReady(LocalCluster cluster) throws InterruptedException {
    if (cluster.awaitReady(Duration.ofSeconds(timeoutSeconds))) {
      return true;
    }
    System.err.printf(
        "error: the local cluster was not ready within %d s (registered: %s)%n",
        timeoutSeconds, cluster.registryIds());
    return false;
  }

  /** Runs the demo's phases in order; the exit code of the first that fails, else 0. */
  private static int runPhases(List<DemoPhase> phases, LocalCluster cluster, PrintStream out)
      throws Exception {
    for (DemoPhase phase : phases) {
      out.println("== " + phase.name());
      int rc = phase.run(cluster, out);
      if (rc != 0) {
        System.err.println("error: demo phase '" + phase.name() + "' failed");
        return rc;
      }
    }
    out.println("Stopping the local cluster.");
    return 0;
  }
}
