package io.flotilla.loadtest;

import com.typesafe.config.Config;
import io.flotilla.ledger.LedgerBridge;
import io.flotilla.ledger.LedgerBridgeSingleton;
import io.flotilla.protocol.identity.WorkerIdentity;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.scheduler.SchedulerNode;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.worker.fault.FaultSettings;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs one scenario: starts a {@link LoadCluster}, adds the simulated workers, submits jobs as the
 * scenario says (kept in flight, in a burst, before the workers join), applies churn, crashes and
 * faults, drains, then checks the {@link Invariants} against the scheduler's journal, the ledger
 * and the simulator's own records. Waiting uses TestKit probes with deadlines, never sleeps on a
 * condition.
 */
public final class ScenarioRunner {

  private static final String TEAM = "load";

  /** Workers that join together, then {@link #JOIN_PAUSE}. */
  private static final int JOIN_BATCH = 100;

  private static final Duration JOIN_PAUSE = Duration.ofMillis(250);

  private final Scenario scenario;
  private final ScenarioParameters p;
  private final Config base;
  private final PrintStream progress;

  /**
   * A runner of {@code scenario} with {@code parameters} on a cluster configured by {@code base}
   * over the load-test defaults; the live progress line goes to {@code progress} (null: none).
   */
  public ScenarioRunner(
      Scenario scenario, ScenarioParameters parameters, Config base, PrintStream progress) {
    this.scenario = scenario;
    this.p = parameters;
    this.base = base.withFallback(LoadCluster.loadTestConfig()).resolve();
    this.progress = progress;
  }

  /** Runs the scenario; returns what it measured and which invariants held. */
  public ScenarioResult run() throws InterruptedException {
    LoadMetrics metrics = new LoadMetrics();
    long started = System.nanoTime();
    Random random = new Random(p.seed());
    Map<String, JobView> jobs = new ConcurrentHashMap<>();
    Set<String> faulty = new HashSet<>();
    List<String> pendingSubmissions = Collections.synchronizedList(new ArrayList<>());
    try (Simulation sim = new Simulation(metrics, Duration.ofMillis(5), 2);
        LoadCluster cluster = LoadCluster.start(base, p.schedulers(), p.hosts(), sim)) {
      ActorRef<LedgerBridge.LedgerEvent> settlements =
          cluster
              .seed()
              .system()
              .systemActorOf(
                  Behaviors.receive(LedgerBridge.LedgerEvent.class)
                      .onMessage(
                          LedgerBridge.BatchSettled.class,
                          b -> {
                            metrics.settled(b.payments());
                            return Behaviors.same();
                          })
                      .onAnyMessage(m -> Behaviors.same())
                      .build(),
                  "load-settlements",
                  Props.empty());
      ActorRef<LedgerBridge.Command> ledger = LedgerBridgeSingleton.init(cluster.seed().system());
      WorkerIdentity[] identities = new WorkerIdentity[p.identities()];
      for (int i = 0; i < identities.length; i++) {
        identities[i] = WorkerIdentity.generate();
      }
      List<WorkerProfile> profiles = new ArrayList<>();
      SplittableRandom speeds = new SplittableRandom(p.seed());
      double[] gflops = new double[p.workers()];
      List<Integer> bySpeed = new ArrayList<>();
      for (int i = 0; i < p.workers(); i++) {
        gflops[i] = 50 * Math.exp(0.3 * gaussian(speeds));
        bySpeed.add(i);
      }
      // The planner places jobs on the fastest workers: faulty ones are drawn from every other
      // of the fastest, so that they do get work and the vote has honest majorities to use.
      bySpeed.sort((x, y) -> Double.compare(gflops[y], gflops[x]));
      int faultyCount = (int) Math.round(p.faultyShare() * p.workers());
      for (int i = 0; i < faultyCount; i++) {
        faulty.add(workerId(bySpeed.get(Math.min(2 * i, bySpeed.size() - 1))));
      }
      int[] nextWorker = {0};
      java.util.function.Supplier<WorkerProfile> newProfile =
          () -> {
            int i = nextWorker[0]++;
            String id = workerId(i);
            FaultSettings fs =
                faulty.contains(id)
                    ? new FaultSettings(
                        p.faultMode(),
                        p.faultRate(),
                        p.seed() + i,
                        0.1,
                        10,
                        Duration.ofSeconds(30),
                        8,
                        io.flotilla.worker.fault.FaultTarget.PARAMETERS)
                    : FaultSettings.none();
            return new WorkerProfile(
                id,
                identities[i % identities.length],
                4,
                16L << 30,
                i < gflops.length ? gflops[i] : 50 * Math.exp(0.3 * gaussian(speeds)),
                p.compute(),
                fs,
                p.seed() * 1_000_003L + i);
          };
      for (int i = 0; i < p.workers(); i++) {
        profiles.add(newProfile.get());
      }
      ScheduledExecutorService ticker =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "flotilla-load-ticker");
                t.setDaemon(true);
                return t;
              });
      ProgressLine line = new ProgressLine(progress, scenario.cliName(), metrics);
      ticker.scheduleAtFixedRate(
          () -> {
            try {
              ledger.tell(new LedgerBridge.Subscribe(settlements));
              long queued =
                  jobs.values().stream()
                      .filter(
                          v ->
                              v.phase() == JobView.Phase.QUEUED
                                  || v.phase() == JobView.Phase.NEW
                                  || v.phase() == JobView.Phase.PLANNED)
                      .count();
              long running =
                  jobs.values().stream().filter(v -> v.phase() == JobView.Phase.RUNNING).count();
              long done = jobs.values().stream().filter(v -> v.phase().isTerminal()).count();
              long workersNow =
                  cluster.hosts().stream()
                      .filter(h -> !h.isDown())
                      .mapToLong(h -> h.workerIds().size())
                      .sum();
              metrics.gauges(queued, running, workersNow);
              line.print(workersNow, queued, running, done);
            } catch (RuntimeException e) {
              // the progress line never stops the run
            }
          },
          1,
          1,
          TimeUnit.SECONDS);

      TestProbe<Object> probe = TestProbe.create(cluster.seed().system());
      double joinSeconds = 0;
      if (!p.joinDuringRun()) {
        joinSeconds = addWorkers(cluster, profiles, probe);
      }

      JobSpec spec = spec();
      long runStart = System.nanoTime();
      long warmupNanos = p.warmup().toNanos();
      long durationNanos = p.duration().toNanos();
      metrics.measureFrom(runStart + warmupNanos);
      // The scenario's workload.
      if (scenario == Scenario.BURST || scenario == Scenario.JOIN) {
        int n = scenario == Scenario.BURST ? p.burstJobs() : p.concurrentJobs();
        submit(cluster, spec, n, jobs, pendingSubmissions);
      }
      if (p.joinDuringRun()) {
        joinSeconds = addWorkers(cluster, profiles, probe);
      }
      double churnCarry = 0;
      boolean crashedHosts = false;
      boolean crashedScheduler = false;
      long lastTick = System.nanoTime();
      // The run lasts its duration, and longer (up to the drain timeout) until the scenario's
      // crash has happened: a host crash waits for its workers to hold slots, which on a slow or
      // busy machine can come after the duration is over.
      long crashDeadline =
          runStart + warmupNanos + Math.max(durationNanos, p.drainTimeout().toNanos());
      while (System.nanoTime() - runStart < warmupNanos + durationNanos
          || (p.crashHosts() > 0 && !crashedHosts && System.nanoTime() < crashDeadline)) {
        if (scenario != Scenario.BURST && scenario != Scenario.JOIN) {
          long inFlight = jobs.values().stream().filter(v -> !v.phase().isTerminal()).count();
          int missing = (int) (p.concurrentJobs() - inFlight - pendingSubmissions.size());
          if (missing > 0) {
            submit(cluster, spec, missing, jobs, pendingSubmissions);
          }
        }
        refresh(cluster, jobs, sim);
        long now = System.nanoTime();
        double seconds = (now - lastTick) / 1e9;
        lastTick = now;
        if (p.churnPerMinute() > 0) {
          churnCarry += p.churnPerMinute() / 60 * liveWorkers(cluster) * seconds;
          while (churnCarry >= 1) {
            churnCarry -= 1;
            churnOne(cluster, random, sim, newProfile.get());
          }
        }
        boolean half = now - runStart > warmupNanos + durationNanos / 2;
        if (half && !crashedHosts && p.crashHosts() > 0) {
          // Crash the hosts whose workers hold the most slots of jobs in mid-run, once some do:
          // those jobs must be placed again and run steps again, so that the loss is felt (a
          // job that has only its last step or its prepare left would finish on its other slots'
          // reports, or start elsewhere, without a recovery to time).
          Map<VolunteerHost, Long> stepping = new HashMap<>();
          for (VolunteerHost host : cluster.hosts()) {
            stepping.put(host, sim.steppingSlots(host.workerIds(), p.stepsPerJob(), 2));
          }
          List<VolunteerHost> busiest = new ArrayList<>(cluster.hosts());
          busiest.sort((x, y) -> Long.compare(stepping.get(y), stepping.get(x)));
          List<VolunteerHost> crashing = busiest.subList(0, p.crashHosts());
          if (crashing.stream().anyMatch(h -> stepping.get(h) > 0)) {
            crashedHosts = true;
            for (VolunteerHost host : crashing) {
              host.workerIds().forEach(id -> sim.lost(id, "volunteer host crashed"));
              host.crash();
            }
          }
        }
        if (half && !crashedScheduler && p.crashScheduler()) {
          crashedScheduler = true;
          cluster.schedulers().get(0).node().crash();
        }
        probe.expectNoMessage(Duration.ofMillis(200));
      }
      if (scenario != Scenario.BURST && scenario != Scenario.JOIN) {
        // Jobs were kept in flight until now; the drain that follows runs fewer and fewer.
        metrics.measureUntil(System.nanoTime());
      }
      // Drain: every job submitted must end, unless no scheduler node is left to end them.
      long drainEnd = System.nanoTime() + p.drainTimeout().toNanos();
      while (System.nanoTime() < drainEnd && schedulerRunning(cluster)) {
        refresh(cluster, jobs, sim);
        long open =
            jobs.values().stream().filter(v -> !v.phase().isTerminal()).count()
                + pendingSubmissions.size();
        if (open == 0) {
          break;
        }
        probe.expectNoMessage(Duration.ofMillis(250));
      }
      if (!schedulerRunning(cluster)) {
        ticker.shutdownNow();
        line.finish();
        return new ScenarioResult(
            scenario,
            p,
            metrics,
            List.of(
                new ScenarioResult.Check(
                    "a scheduler node was running at the end",
                    false,
                    "every scheduler node is down (downed by the cluster or crashed); the other"
                        + " invariants cannot be read")),
            Map.of(),
            joinSeconds,
            (System.nanoTime() - started) / 1e9,
            0,
            sim.corruptedResults(),
            Map.of());
      }
      Invariants invariants = new Invariants(p, sim, cluster, ledger, probe, faulty);
      if (p.paid()) {
        invariants.awaitSettled(jobs, Duration.ofSeconds(120));
      }
      ticker.shutdownNow();
      line.finish();
      double runSeconds = (System.nanoTime() - started) / 1e9;
      List<ScenarioResult.Check> checks = new ArrayList<>(invariants.check(jobs));
      if (p.crashHosts() > 0) {
        checks.add(
            new ScenarioResult.Check(
                "a volunteer host crashed while its workers held slots",
                crashedHosts,
                crashedHosts
                    ? p.crashHosts() + " host(s) crashed"
                    : "no worker held a slot within " + p.drainTimeout().toSeconds() + " s"));
      }
      if (submissionRetries.get() > 0) {
        invariants.interruptions().put("job submissions retried", submissionRetries.get());
      }
      Map<String, Long> byPhase = new TreeMap<>();
      jobs.values().forEach(v -> byPhase.merge(v.phase().name(), 1L, Long::sum));
      return new ScenarioResult(
          scenario,
          p,
          metrics,
          checks,
          byPhase,
          joinSeconds,
          runSeconds,
          invariants.busyWorkers(),
          sim.corruptedResults(),
          invariants.interruptions());
    }
  }

  private static boolean schedulerRunning(LoadCluster cluster) {
    try {
      cluster.liveScheduler();
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private static String workerId(int i) {
    return String.format("sim-%05d", i);
  }

  private static double gaussian(SplittableRandom r) {
    double u1 = 1.0 - r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static long liveWorkers(LoadCluster cluster) {
    return cluster.hosts().stream()
        .filter(h -> !h.isDown())
        .mapToLong(h -> h.workerIds().size())
        .sum();
  }

  /** One volunteer leaves (gracefully) and a new one joins on a random live host. */
  private static void churnOne(
      LoadCluster cluster, Random random, Simulation sim, WorkerProfile joining) {
    List<VolunteerHost> live = cluster.hosts().stream().filter(h -> !h.isDown()).toList();
    VolunteerHost from = live.get(random.nextInt(live.size()));
    List<String> ids = from.workerIds();
    if (!ids.isEmpty()) {
      String leaving = ids.get(random.nextInt(ids.size()));
      sim.lost(leaving, "volunteer left");
      from.leave(leaving);
    }
    live.get(random.nextInt(live.size())).add(joining);
  }

  /** Adds the workers round-robin to the hosts and waits until the registry holds them all. */
  private double addWorkers(
      LoadCluster cluster, List<WorkerProfile> profiles, TestProbe<Object> probe) {
    long t0 = System.nanoTime();
    for (int i = 0; i < profiles.size(); i++) {
      cluster.hosts().get(i % cluster.hosts().size()).add(profiles.get(i));
      if (i % JOIN_BATCH == JOIN_BATCH - 1) {
        // Pace the joins: a thousand registry writes at once starve the nodes' heartbeats on a
        // small machine and the failure detector downs the whole cluster.
        probe.expectNoMessage(JOIN_PAUSE);
      }
    }
    probe.awaitAssert(
        Duration.ofSeconds(60 + profiles.size() / 50),
        Duration.ofMillis(200),
        () -> {
          int n = cluster.registry().size();
          if (n < profiles.size()) {
            throw new AssertionError("registry holds " + n + " of " + profiles.size() + " workers");
          }
          return null;
        });
    return (System.nanoTime() - t0) / 1e9;
  }

  private void submit(
      LoadCluster cluster, JobSpec spec, int n, Map<String, JobView> jobs, List<String> pending) {
    for (int i = 0; i < n; i++) {
      String ticket = "pending-" + System.nanoTime() + "-" + i;
      pending.add(ticket);
      submitOne(
          cluster, spec, jobs, pending, ticket, System.nanoTime() + p.drainTimeout().toNanos());
    }
  }

  /**
   * Submits one job; a submission that fails (its scheduler node crashed, sharding not ready yet)
   * is tried again until {@code deadlineNanos}, as a team's client would, and stays pending.
   */
  private void submitOne(
      LoadCluster cluster,
      JobSpec spec,
      Map<String, JobView> jobs,
      List<String> pending,
      String ticket,
      long deadlineNanos) {
    SchedulerNode s;
    try {
      s = cluster.liveScheduler();
    } catch (IllegalStateException e) {
      pending.remove(ticket);
      return;
    }
    // The ticket is the idempotency key: a submission retried after an answer that was lost
    // (its scheduler node crashed, the ask timed out) gets the job the first one created.
    s.jobs()
        .submit(TEAM, spec, ticket)
        .whenComplete(
            (view, error) -> {
              if (view != null) {
                jobs.put(view.jobId(), view);
                pending.remove(ticket);
              } else if (System.nanoTime() < deadlineNanos) {
                submissionRetries.incrementAndGet();
                CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS)
                    .execute(() -> submitOne(cluster, spec, jobs, pending, ticket, deadlineNanos));
              } else {
                pending.remove(ticket);
              }
            });
  }

  private final java.util.concurrent.atomic.AtomicLong submissionRetries =
      new java.util.concurrent.atomic.AtomicLong();

  /** Reads the state of every job that has not ended. */
  private static void refresh(LoadCluster cluster, Map<String, JobView> jobs, Simulation sim) {
    SchedulerNode s;
    try {
      s = cluster.liveScheduler();
    } catch (IllegalStateException e) {
      return;
    }
    List<CompletableFuture<JobView>> reads = new ArrayList<>();
    for (JobView v : jobs.values()) {
      if (!v.phase().isTerminal()) {
        reads.add(
            s.jobs()
                .get(v.jobId())
                .toCompletableFuture()
                .whenComplete(
                    (view, error) -> {
                      if (view != null && view.phase() != JobView.Phase.NEW) {
                        jobs.put(view.jobId(), view);
                        if (view.phase().isTerminal()) {
                          sim.ended(view.jobId());
                        }
                      }
                    }));
      }
    }
    try {
      CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      // a read that timed out is retried on the next round
    }
  }

  /** The job every submission runs. */
  JobSpec spec() {
    int micro = 2;
    return JobSpecParser.parse(
        """
        name: load-%s
        model: {type: gpt, layers: %d, width: 16, heads: 2, context: 12, dropout: 0.0}
        dataset:
          type: addition
          options: {digits: 2, train_examples: 2000, eval_examples: 100}
        training:
          steps: %d
          global_batch: %d
          micro_batches: %d
          seed: 7
          optimizer: {type: adamw, lr: 3e-3, grad_clip: 1.0}
          schedule: {type: constant}
        parallelism: {pipeline_stages: %d, replicas: %d, schedule: gpipe}
        checkpoint: {interval_steps: %d, keep_last: 1}
        %s
        """
            .formatted(
                scenario.cliName(),
                Math.max(1, p.stages()),
                p.stepsPerJob(),
                2 * micro * p.replicas(),
                micro,
                p.stages(),
                p.replicas(),
                p.checkpointEvery(),
                p.paid()
                    ? "payment: {unit: per-task, price: 0.000001, budget: 1000000, currency: credits}"
                    : ""));
  }
}
