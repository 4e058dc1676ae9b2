package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import io.flotilla.scheduler.job.VerificationLogs;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.verify.Verdict;
import io.flotilla.scheduler.verify.VerificationLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker that poisons its local gradient before the all-reduce is invisible to the replica vote:
 * both replicas apply the same poisoned sum and agree. With {@code redundancy: adaptive} the step
 * driver runs the new worker's steps beside a shadow on a spare worker too (from a checkpoint of
 * the step), compares the backward digests, settles the disagreement with a tie-breaker on another
 * spare, refuses the step and records the liar invalid, until it is quarantined; the job then
 * completes on honest workers with exactly the losses of single-process training.
 */
@ExtendWith(LogCapturingExtension.class)
class ShadowExecutionTest {

  static final int STEPS = 4;

  static JobSpec spec() {
    return TinyAdditionJob.named("shadowed", STEPS)
        .layers(1)
        .batch(8, 2)
        .seed(11)
        .parallelism(1, 2, "gpipe")
        .checkpoint(2, 1)
        .verification("{redundancy: adaptive}")
        .spec();
  }

  @Test
  void aWorkerThatPoisonsItsGradientIsCaughtByItsShadowAndNothingOfItEntersTheModel()
      throws Exception {
    JobSpec spec = spec();
    double[] reference = DistributedTrainingTest.referenceLosses(spec, STEPS);
    // 6 workers, one of them faulty: 2 slots, a shadow for each, a spare for the tie-breaker.
    try (LocalCluster cluster = LocalCluster.start(FaultyWorkerTest.config(), 5, true, true)) {
      // The fastest worker, so that the planner places it.
      cluster.addWorker(
          "poisoner",
          ConfigFactory.parseString(
              """
              flotilla.worker.agent.benchmark.cpu-gflops = 1000
              flotilla.worker.fault { mode = noise, target = gradients, rate = 1.0, seed = 3 }
              """));
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      Jobs jobs = cluster.scheduler().jobs();
      var system = cluster.scheduler().node().system();
      TestProbe<WorkerReputation> reputation = TestProbe.create(system);
      String id =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();

      JobView done = completed(reputation, jobs, id, Duration.ofMinutes(4));
      cluster
          .scheduler()
          .node()
          .reputation()
          .tell(new ReputationRegistry.GetReputation("poisoner", reputation.ref()));
      WorkerReputation poisoner = reputation.receiveMessage(Duration.ofSeconds(10));
      assertThat(poisoner.quarantined()).as("%s", poisoner).isTrue();
      assertThat(done.restarts()).isGreaterThanOrEqualTo(2);
      assertThat(done.plan().stages().get(0).workers())
          .extracting(PlanResult.Placement::workerId)
          .doesNotContain("poisoner");
      assertThat(done.payments()).doesNotContainKey("poisoner");

      TreeMap<Long, Double> losses = JobJournal.keptLosses(JobJournal.events(system, id));
      JobJournal.assertReferenceLosses(losses, reference, STEPS);

      // The log shows how: the replica vote agreed with the poisoner (it cannot see the poison),
      // and every time it ran, the shadow and the tie-breaker outvoted it on its backward pass.
      List<VerificationLog.Entry> entries = VerificationLog.read(writtenLog(cluster, jobs, id));
      assertThat(entries)
          .filteredOn(e -> e.dissenting().contains("poisoner"))
          .hasSizeGreaterThanOrEqualTo(2)
          .allSatisfy(
              e -> {
                assertThat(e.outcome()).isEqualTo(Verdict.Outcome.ACCEPTED);
                assertThat(e.executions()).hasSize(3);
                assertThat(e.agreeing()).hasSize(2).doesNotContain("poisoner");
              });
      assertThat(entries)
          .filteredOn(e -> e.executions().size() == 2 && e.agreeing().contains("poisoner"))
          .as("replica votes the poisoner passed")
          .isNotEmpty();
      // Every journaled step was checked by shadows of both replicas (honest workers have fewer
      // than trust-after-valid checks behind them, so all their steps are replicated).
      for (long step : losses.keySet()) {
        assertThat(entries)
            .filteredOn(
                e ->
                    e.step() == step - 1
                        && e.outcome() == Verdict.Outcome.ACCEPTED
                        && e.dissenting().isEmpty()
                        && e.executions().stream()
                            .anyMatch(x -> !done.plan().workerIds().contains(x.workerId())))
            .extracting(VerificationLog.Entry::replica)
            .as("shadow checks of step %d", step - 1)
            .contains(0, 1);
      }
    }
  }

  @Test
  void aFixedFactorChecksEveryStepOfASingleReplicaWithItsPlannedCopy() throws Exception {
    JobSpec spec =
        TinyAdditionJob.named("fixed", 3)
            .layers(1)
            .seed(13)
            .parallelism(2, 1, "1f1b")
            .checkpoint(3, 1)
            .verification("{redundancy: 2}")
            .spec();
    double[] reference = DistributedTrainingTest.referenceLosses(spec, 3);
    try (LocalCluster cluster = LocalCluster.start(FaultyWorkerTest.config(), 4, true, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      Jobs jobs = cluster.scheduler().jobs();
      String id =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();
      TestProbe<Object> probe = TestProbe.create(cluster.scheduler().node().system());
      JobView done = completed(probe, jobs, id, Duration.ofMinutes(3));
      assertThat(done.restarts()).isZero();
      assertThat(done.lastLoss()).isCloseTo(reference[2], within(1e-5 * Math.abs(reference[2])));
      // Both stages' slots and the copy the planner reserved for each: every step's forward,
      // backward and update passes agree between the two pipelines, bit for bit.
      List<String> copies =
          done.plan().stages().stream()
              .flatMap(st -> st.workers().stream())
              .filter(p -> p.copy() == 1)
              .map(PlanResult.Placement::workerId)
              .toList();
      assertThat(copies).hasSize(2);
      List<VerificationLog.Entry> entries = VerificationLog.read(writtenLog(cluster, jobs, id));
      for (long step = 0; step < 3; step++) {
        long s = step;
        assertThat(entries)
            .filteredOn(e -> e.step() == s)
            .as("step %d", step)
            .hasSize(6) // 2 forward, 2 backward, 2 update positions
            .allSatisfy(
                e -> {
                  assertThat(e.outcome()).isEqualTo(Verdict.Outcome.ACCEPTED);
                  assertThat(e.dissenting()).isEmpty();
                  assertThat(e.agreeing()).hasSize(2).containsAnyElementsOf(copies);
                });
      }
      // Each of the 3 checked steps is one valid result for each of the four workers: the job's
      // own for the checkpointed steps its shadow agreed with, the copies for each agreement.
      for (String w : done.plan().workerIds()) {
        probe.awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(100),
            () -> {
              TestProbe<WorkerReputation> rep =
                  TestProbe.create(cluster.scheduler().node().system());
              cluster
                  .scheduler()
                  .node()
                  .reputation()
                  .tell(new ReputationRegistry.GetReputation(w, rep.ref()));
              assertThat(rep.receiveMessage(Duration.ofSeconds(5)).validResults())
                  .as("valid results of %s", w)
                  .isEqualTo(3);
              return null;
            });
      }
    }
  }

  /** Waits for job {@code id} to complete and returns it. */
  private static JobView completed(TestProbe<?> probe, Jobs jobs, String id, Duration timeout) {
    return probe.awaitAssert(
        timeout,
        Duration.ofMillis(200),
        () -> {
          JobView v = get(jobs, id);
          assertThat(v.phase()).as("%s", v.failureReason()).isEqualTo(JobView.Phase.COMPLETED);
          return v;
        });
  }

  private static JobView get(Jobs jobs, String id) {
    try {
      return jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The job's verification log, once the node's writer has written what it holds. */
  private static Path writtenLog(LocalCluster cluster, Jobs jobs, String id) throws Exception {
    VerificationLogs.get(cluster.scheduler().node().system())
        .writer()
        .flush()
        .get(30, TimeUnit.SECONDS);
    return jobs.checkpoints().verificationLog(id);
  }
}
