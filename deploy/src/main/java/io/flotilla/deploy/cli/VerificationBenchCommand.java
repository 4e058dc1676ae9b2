package io.flotilla.deploy.cli;

import ch.qos.logback.classic.Level;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.deploy.DemoIncidents;
import io.flotilla.deploy.LocalCluster;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.scheduler.job.JobMetrics;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flotilla bench verification}: what checking untrusted work costs in real training, and how
 * fast it catches cheaters. For each redundancy and faulty share it starts an in-process cluster
 * whose faulty workers poison their local gradients (the fault only shadow executions see), trains
 * a small addition GPT to the end and reports the stage-replica steps computed (own slots and
 * shadows) over those kept, and at which step each faulty worker was quarantined.
 */
@Command(
    name = "verification",
    mixinStandardHelpOptions = true,
    description = {
      "Train a small job on an in-process cluster with a share of workers that poison their",
      "gradients, once per redundancy and share, and print the verification overhead (steps",
      "computed / steps kept) and the step at which each faulty worker was quarantined."
    })
public final class VerificationBenchCommand implements Callable<Integer> {

  @Option(
      names = "--workers",
      defaultValue = "10",
      description = "Workers per run, faulty ones included (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--steps",
      defaultValue = "150",
      description = "Training steps per run (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--stages",
      defaultValue = "2",
      description = "Pipeline stages of the job (default ${DEFAULT-VALUE}).")
  int stages;

  @Option(
      names = "--replicas",
      defaultValue = "2",
      description = "Data-parallel replicas of the job (default ${DEFAULT-VALUE}).")
  int replicas;

  @Option(
      names = "--shares",
      split = ",",
      defaultValue = "0,0.1,0.3",
      description = "Faulty shares of the workers, comma separated (default ${DEFAULT-VALUE}).")
  List<Double> shares;

  @Option(
      names = "--redundancy",
      split = ",",
      defaultValue = "adaptive,2",
      description =
          "The job's redundancy per run: adaptive or a factor (default ${DEFAULT-VALUE}).")
  List<String> redundancies;

  @Option(
      names = "--timeout",
      defaultValue = "10m",
      description = "Longest wait for one run's job (default ${DEFAULT-VALUE}).")
  String timeout;

  /** One run's outcome. */
  record Outcome(
      String redundancy,
      double share,
      int faulty,
      long kept,
      long own,
      long shadow,
      Map<String, Long> caughtAtStep,
      Map<String, String> notCaught,
      int restarts,
      double seconds) {
    double overhead() {
      return kept == 0 ? 0 : (double) (own + shadow) / kept;
    }
  }

  @Override
  public Integer call() throws Exception {
    Duration limit;
    try {
      limit = Duration.parse("PT" + timeout.toUpperCase(Locale.ROOT));
    } catch (RuntimeException e) {
      System.err.println("error: --timeout must be a duration like 90s or 10m, was " + timeout);
      return 2;
    }
    if (workers < 2 || steps < 1 || stages < 1 || replicas < 1) {
      System.err.println("error: --workers must be >= 2, --steps, --stages, --replicas >= 1");
      return 2;
    }
    for (double share : shares) {
      if (!(share >= 0 && share < 1)) {
        System.err.println("error: every --shares value must be in [0, 1), was " + share);
        return 2;
      }
    }
    for (String r : redundancies) {
      try {
        spec(r);
      } catch (RuntimeException e) {
        System.err.println("error: --redundancy " + r + ": " + e.getMessage());
        return 2;
      }
    }
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(Level.ERROR);
    List<Outcome> outcomes = new ArrayList<>();
    for (String redundancy : redundancies) {
      for (double share : shares) {
        Outcome o = run(redundancy, share, limit);
        if (o == null) {
          return 1;
        }
        outcomes.add(o);
        System.out.printf(
            Locale.ROOT,
            "%s, %.0f%% faulty: %.3f steps computed per step kept (%d own + %d shadow / %d),"
                + " caught %s, %d restarts, %.0f s%n",
            redundancy,
            share * 100,
            o.overhead(),
            o.own(),
            o.shadow(),
            o.kept(),
            o.caughtAtStep(),
            o.restarts(),
            o.seconds());
      }
    }
    System.out.println();
    System.out.println(
        "| redundancy | faulty share | steps computed / kept | faulty workers quarantined at"
            + " step | restarts |");
    System.out.println("| --- | --- | --- | --- | --- |");
    for (Outcome o : outcomes) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f%% (%d of %d) | %.3f | %s | %d |%n",
          o.redundancy(),
          o.share() * 100,
          o.faulty(),
          workers,
          o.overhead(),
          o.caughtAtStep().isEmpty()
              ? "–"
              : String.join(
                  ", ",
                  o.caughtAtStep().entrySet().stream()
                      .map(
                          e ->
                              e.getValue() < 0
                                  ? "not caught (" + o.notCaught().get(e.getKey()) + ")"
                                  : String.valueOf(e.getValue()))
                      .toList()),
          o.restarts());
    }
    return 0;
  }

  private JobSpec spec(String redundancy) {
    return JobSpecParser.parse(
        """
        name: verification-bench
        model: {type: gpt, layers: 2, width: 32, heads: 2, context: 12, dropout: 0.0}
        dataset:
          type: addition
          options: {digits: 2, train_examples: 2000, eval_examples: 100}
        training:
          steps: %d
          global_batch: %d
          micro_batches: 2
          seed: 7
          optimizer: {type: adamw, lr: 3e-3, grad_clip: 1.0}
          schedule: {type: constant}
        parallelism: {pipeline_stages: %d, replicas: %d, schedule: 1f1b}
        checkpoint: {interval_steps: 10, keep_last: 2}
        verification: {redundancy: %s}
        """
            .formatted(steps, 4 * replicas, stages, replicas, redundancy));
  }

  private static WorkerReputation reputation(Map<String, WorkerReputation> reps, String id) {
    return reps.getOrDefault(id, WorkerReputation.unknown(id));
  }

  private Outcome run(String redundancy, double share, Duration limit) throws Exception {
    int faulty = (int) Math.round(share * workers);
    Config config =
        ConfigFactory.parseString(
                """
                flotilla.scheduler.jobs.restart-backoff-min = 200ms
                flotilla.scheduler.jobs.restart-backoff-max = 2s
                flotilla.scheduler.jobs.max-restarts = 100
                flotilla.scheduler.jobs.step-timeout-min = 60s
                """)
            .withFallback(LocalCluster.demoConfig());
    long t0 = System.nanoTime();
    try (LocalCluster cluster = LocalCluster.start(config, 0, true, true)) {
      Map<String, Long> caught = new LinkedHashMap<>();
      for (int i = 1; i <= workers; i++) {
        String id = String.format(Locale.ROOT, "worker-%02d", i);
        // Faulty workers spread evenly over the ids, so that the planner's order meets them.
        boolean bad =
            faulty > 0 && (i - 1) % Math.max(1, workers / faulty) == 0 && caught.size() < faulty;
        if (bad) {
          caught.put(id, -1L);
        }
        cluster.addWorker(
            id,
            bad
                ? ConfigFactory.parseString(
                    "flotilla.worker.fault { mode = noise, target = gradients, rate = 1.0, seed = "
                        + i
                        + " }")
                : ConfigFactory.empty());
      }
      if (!cluster.awaitReady(Duration.ofSeconds(120))) {
        System.err.println("error: cluster not ready within 120 s");
        return null;
      }
      Jobs jobs = cluster.scheduler().jobs();
      ActorSystem<?> system = cluster.scheduler().node().system();
      String jobId =
          jobs.submit("bench", spec(redundancy))
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS)
              .jobId();
      long deadline = System.nanoTime() + limit.toNanos();
      JobView view;
      Map<String, WorkerReputation> reps;
      // This command's own thread polls the job and the registry; no actor waits.
      while (true) {
        view = jobs.get(jobId).toCompletableFuture().get(30, TimeUnit.SECONDS);
        reps = DemoIncidents.reputations(system, cluster.scheduler().node().reputation());
        for (var e : caught.entrySet()) {
          if (e.getValue() < 0 && reputation(reps, e.getKey()).quarantined()) {
            e.setValue(view.stepsCompleted());
          }
        }
        if (view.phase().isTerminal()) {
          break;
        }
        if (System.nanoTime() > deadline) {
          System.err.println("error: the job did not end within " + timeout);
          return null;
        }
        Thread.sleep(100);
      }
      if (view.phase() != JobView.Phase.COMPLETED) {
        System.err.println("error: the job ended " + view.phase() + ": " + view.failureReason());
        return null;
      }
      Map<String, String> notCaught = new LinkedHashMap<>();
      for (var e : caught.entrySet()) {
        if (e.getValue() < 0) {
          WorkerReputation r = reputation(reps, e.getKey());
          notCaught.put(
              e.getKey(),
              r.tasksDone() == 0
                  ? "given no work"
                  : r.invalidResults() + " invalid, " + r.validResults() + " valid results");
        }
      }
      JobMetrics metrics = JobMetrics.get(system);
      return new Outcome(
          redundancy,
          share,
          faulty,
          (long) stages * replicas * steps,
          metrics.slotSteps(false),
          metrics.slotSteps(true),
          caught,
          notCaught,
          view.restarts(),
          (System.nanoTime() - t0) / 1e9);
    }
  }
}
