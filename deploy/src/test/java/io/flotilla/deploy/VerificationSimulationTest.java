package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.job.RedundancyMode;
import io.flotilla.protocol.job.VerificationSpec;
import io.flotilla.scheduler.verify.AdaptiveReplication;
import io.flotilla.scheduler.verify.Execution;
import io.flotilla.scheduler.verify.TaskKey;
import io.flotilla.scheduler.verify.Tolerance;
import io.flotilla.scheduler.verify.Verdict;
import io.flotilla.scheduler.verify.VerificationLog;
import io.flotilla.scheduler.verify.VerificationSettings;
import io.flotilla.scheduler.verify.Verifier;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.fault.FaultMode;
import io.flotilla.worker.fault.FaultSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verification building blocks working together on simulated tasks: workers (some of them
 * faulty through the real {@link FaultInjector}) compute each task's result, {@link
 * AdaptiveReplication} decides which tasks get a shadow, the {@link Verifier} compares, results and
 * verdicts go to the real replicated {@link ReputationRegistry} and to a {@link VerificationLog}.
 * The training itself is simulated (a task's correct result is a seeded tensor), so this measures
 * the policy: compute spent per task kept, and the step at which each faulty worker is quarantined.
 */
class VerificationSimulationTest {

  private static final int WORKERS = 10;
  private static final int STEPS = 150;
  private static final int TENSOR = 32;
  private static FlotillaNode node;

  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    node =
        FlotillaNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .port(0)
                .httpEnabled(false)
                .set("pekko.cluster.distributed-data.notify-subscribers-interval", "10ms")
                // The simulation reads every step's records back before the next step.
                .set("flotilla.gossip.reputation.valid-flush-interval", "0s")
                .over(
                    ConfigFactory.parseString("pekko.cluster.jmx.multi-mbeans-in-same-jvm = on")));
    assertThat(node.awaitUp(Duration.ofSeconds(20))).isTrue();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  record Result(
      double overhead, Map<String, Long> caughtAtStep, int appliedWrong, int faulty, Path log) {}

  @Test
  void adaptiveReplicationCatchesEveryFaultyWorkerAtLowCostAndNoWrongResultIsApplied()
      throws IOException {
    VerificationSpec adaptive = new VerificationSpec(RedundancyMode.ADAPTIVE, 2, 1e-4, 0.05);
    VerificationSpec fixed2 = new VerificationSpec(RedundancyMode.FIXED, 2, 1e-4, 0.0);
    Map<String, Result> results = new LinkedHashMap<>();
    for (int faulty : new int[] {0, 1, 3}) {
      results.put(
          "adaptive, " + faulty * 10 + "% faulty", simulate("a" + faulty, adaptive, faulty));
      results.put("fixed r=2, " + faulty * 10 + "% faulty", simulate("f" + faulty, fixed2, faulty));
    }
    results.forEach(
        (name, r) ->
            System.out.printf(
                Locale.ROOT,
                "verification simulation, %d workers x %d steps, %s: %.3fx compute per kept"
                    + " result, faulty caught at steps %s, wrong results applied %d%n",
                WORKERS,
                STEPS,
                name,
                r.overhead(),
                r.caughtAtStep().values(),
                r.appliedWrong()));

    for (Map.Entry<String, Result> e : results.entrySet()) {
      Result r = e.getValue();
      assertThat(r.appliedWrong()).as(e.getKey()).isZero();
      assertThat(r.caughtAtStep()).as(e.getKey()).hasSize(r.faulty());
      // The log, read back, proves it: every accepted digest is the task's correct result.
      for (VerificationLog.Entry entry : VerificationLog.read(r.log())) {
        if (entry.outcome() == Verdict.Outcome.ACCEPTED) {
          assertThat(entry.acceptedDigest())
              .as("%s %s", e.getKey(), entry.task())
              .isEqualTo(digest(truth(entry.step(), entry.replica())));
        }
      }
    }
    assertThat(results.get("fixed r=2, 0% faulty").overhead()).isEqualTo(2.0);
    assertThat(results.get("adaptive, 10% faulty").overhead()).isLessThan(1.3);
  }

  private Result simulate(String job, VerificationSpec spec, int faultyCount) throws IOException {
    AdaptiveReplication policy =
        new AdaptiveReplication(spec, new VerificationSettings(10, 0.02, 3), 42);
    Verifier verifier = new Verifier(Tolerance.of(spec), 3);
    List<String> workers = new ArrayList<>();
    Map<String, FaultInjector> faults = new LinkedHashMap<>();
    for (int i = 0; i < WORKERS; i++) {
      String id = job + "-w" + i;
      workers.add(id);
      if (i < faultyCount) {
        faults.put(
            id,
            // Each faulty worker with its own seed: independent faults, not colluders (two workers
            // that corrupt identically agree bit-exactly; see docs/verification.md).
            new FaultInjector(
                new FaultSettings(
                    FaultMode.NOISE,
                    1.0,
                    i,
                    0.1,
                    10,
                    Duration.ofSeconds(1),
                    8,
                    io.flotilla.worker.fault.FaultTarget.PARAMETERS),
                s -> {
                  throw new IllegalStateException("no crash in this simulation");
                },
                d -> {}));
      }
    }
    Path logFile = dir.resolve(job + ".jsonl");
    long spent = 0;
    long recorded = 0;
    int appliedWrong = 0;
    Map<String, Long> caught = new LinkedHashMap<>();
    try (VerificationLog log = VerificationLog.open(logFile)) {
      for (long step = 0; step < STEPS; step++) {
        Map<String, WorkerReputation> reps = awaitRecorded(workers, recorded);
        for (String w : faults.keySet()) {
          if (reps.get(w).quarantined()) {
            caught.putIfAbsent(w, step);
          }
        }
        List<String> active = workers.stream().filter(w -> !reps.get(w).quarantined()).toList();
        for (int r = 0; r < WORKERS; r++) {
          TaskKey task = new TaskKey(job, step, 0, r);
          String primary = active.get(r % active.size());
          AdaptiveReplication.Decision decision = policy.decide(reps.get(primary), task);
          float[] truth = truth(step, r);
          List<Execution> executions = new ArrayList<>();
          executions.add(execute(primary, truth, faults));
          spent++;
          if (decision.kind() == AdaptiveReplication.Kind.SINGLE) {
            record(new ReputationRegistry.RecordUnverified(primary, null));
            recorded++;
            if (!executions.get(0).digest().equals(digest(truth))) {
              appliedWrong++;
            }
            continue;
          }
          String shadow = active.get((int) ((r + 1 + step) % active.size()));
          if (shadow.equals(primary)) {
            shadow = active.get((int) ((r + 2 + step) % active.size()));
          }
          executions.add(execute(shadow, truth, faults));
          spent++;
          Verdict verdict = verifier.verify(executions);
          log.append(VerificationLog.Entry.of(task, executions, verdict, step));
          if (verdict instanceof Verdict.NeedsTiebreak) {
            executions.add(Execution.ofDigest("trusted", "cpu", digest(truth)).asTrusted());
            spent++;
            verdict = verifier.verify(executions);
            log.append(VerificationLog.Entry.of(task, executions, verdict, step));
          }
          assertThat(verdict).isInstanceOf(Verdict.Accepted.class);
          Verdict.Accepted accepted = (Verdict.Accepted) verdict;
          if (!accepted.result().digest().equals(digest(truth))) {
            appliedWrong++;
          }
          for (String w : accepted.agreeing()) {
            if (!w.equals("trusted")) {
              record(new ReputationRegistry.RecordValid(w, null));
              recorded++;
            }
          }
          for (String w : accepted.dissenting()) {
            record(new ReputationRegistry.RecordInvalid(w, "digest differs from the quorum", null));
            recorded++;
          }
        }
      }
    }
    Map<String, WorkerReputation> last = awaitRecorded(workers, recorded);
    for (String w : faults.keySet()) {
      if (last.get(w).quarantined()) {
        caught.putIfAbsent(w, (long) STEPS);
      }
    }
    return new Result(
        (double) spent / (WORKERS * STEPS), caught, appliedWrong, faultyCount, logFile);
  }

  private static Execution execute(
      String worker, float[] truth, Map<String, FaultInjector> faults) {
    float[] result = truth.clone();
    FaultInjector injector = faults.get(worker);
    if (injector != null && injector.fires()) {
      injector.corrupt(worker, result);
    }
    return Execution.ofDigest(worker, "cpu", digest(result));
  }

  private static void record(ReputationRegistry.Command command) {
    node.reputation().tell(command);
  }

  /** The local replica once it holds every record made so far. */
  private static Map<String, WorkerReputation> awaitRecorded(List<String> workers, long recorded) {
    TestProbe<ReputationRegistry.Reputations> probe = TestProbe.create(node.system());
    return probe.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(5),
        () -> {
          node.reputation().tell(new ReputationRegistry.GetReputations(probe.ref()));
          ReputationRegistry.Reputations reps = probe.receiveMessage(Duration.ofSeconds(3));
          long done = workers.stream().mapToLong(w -> reps.of(w).tasksDone()).sum();
          assertThat(done).isEqualTo(recorded);
          Map<String, WorkerReputation> byWorker = new LinkedHashMap<>();
          workers.forEach(w -> byWorker.put(w, reps.of(w)));
          return byWorker;
        });
  }

  private static float[] truth(long step, int replica) {
    Random random = new Random(step * 1_000 + replica);
    float[] t = new float[TENSOR];
    for (int i = 0; i < TENSOR; i++) {
      t[i] = (float) random.nextGaussian();
    }
    return t;
  }

  private static String digest(float[] values) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(values.length * 4);
      for (float v : values) {
        buf.putFloat(v);
      }
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(buf.array()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
