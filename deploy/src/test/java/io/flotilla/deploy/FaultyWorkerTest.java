package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
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
 * A worker that lies about its results (it reports the parameters of an earlier step) among the
 * three replicas of a stage is outvoted by the two honest ones at its first lie; each invalid
 * result sends the job back to its last checkpoint, and at the threshold the worker is quarantined
 * cluster-wide. The job then waits for an honest worker, which joins mid-job and is put to work;
 * the job completes with exactly the losses of single-process training (nothing the liar reported
 * entered the model) and the liar is never paid.
 */
@ExtendWith(LogCapturingExtension.class)
class FaultyWorkerTest {

  static final int STEPS = 8;

  static JobSpec spec() {
    return TinyAdditionJob.named("faulty", STEPS)
        .layers(1)
        .batch(12, 2)
        .seed(5)
        .parallelism(1, 3, "gpipe")
        .checkpoint(4, 1)
        .spec();
  }

  static Config config() {
    return ConfigFactory.parseString(
            """
            flotilla.gossip.reputation.quarantine-after-invalid = 2
            flotilla.scheduler.jobs.restart-backoff-min = 200ms
            flotilla.scheduler.jobs.step-timeout-min = 60s
            """)
        .withFallback(LocalCluster.demoConfig());
  }

  @Test
  void aLyingReplicaIsOutvotedQuarantinedAndNeverPaid() throws Exception {
    JobSpec spec = spec();
    double[] reference = DistributedTrainingTest.referenceLosses(spec, STEPS);
    try (LocalCluster cluster = LocalCluster.start(config(), 2, true, true)) {
      cluster.addWorker(
          "liar",
          ConfigFactory.parseString(
              "flotilla.worker.fault { mode = stale, rate = 1.0, seed = 3 }"));
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      Jobs jobs = cluster.scheduler().jobs();
      var system = cluster.scheduler().node().system();
      TestProbe<WorkerReputation> reputation = TestProbe.create(system);
      String id =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();

      reputation.awaitAssert(
          Duration.ofMinutes(3),
          Duration.ofMillis(100),
          () -> {
            cluster
                .scheduler()
                .node()
                .reputation()
                .tell(new ReputationRegistry.GetReputation("liar", reputation.ref()));
            WorkerReputation r = reputation.receiveMessage(Duration.ofSeconds(5));
            assertThat(r.quarantined()).as("liar quarantined: %s", r).isTrue();
            return null;
          });
      JobView waiting = get(jobs, id);
      assertThat(waiting.phase()).isIn(JobView.Phase.QUEUED, JobView.Phase.PLANNED);

      cluster.addWorker("late-honest", ConfigFactory.empty());
      JobView done =
          reputation.awaitAssert(
              Duration.ofMinutes(4),
              Duration.ofMillis(100),
              () -> {
                JobView v = get(jobs, id);
                assertThat(v.phase())
                    .as("%s", v.failureReason())
                    .isEqualTo(JobView.Phase.COMPLETED);
                assertThat(v.payments()).containsKey("late-honest");
                return v;
              });
      assertThat(done.restarts()).isGreaterThanOrEqualTo(2);
      assertThat(done.plan().stages().get(0).workers())
          .extracting(PlanResult.Placement::workerId)
          .containsExactlyInAnyOrder("worker-1", "worker-2", "late-honest");
      assertThat(done.payments()).doesNotContainKey("liar");

      TreeMap<Long, Double> losses = JobJournal.keptLosses(JobJournal.events(system, id));
      JobJournal.assertReferenceLosses(losses, reference, STEPS);

      // The verification log proves it: the liar was outvoted every time it ran, its result was
      // never needed for a quorum, and every journaled step was accepted without dissent.
      Path logFile = jobs.checkpoints().verificationLog(id);
      List<VerificationLog.Entry> entries =
          reputation.awaitAssert(
              Duration.ofSeconds(30),
              Duration.ofMillis(100),
              () -> {
                List<VerificationLog.Entry> read = VerificationLog.read(logFile);
                assertThat(read)
                    .filteredOn(
                        e -> e.outcome() == Verdict.Outcome.ACCEPTED && e.dissenting().isEmpty())
                    .extracting(e -> e.step() + 1)
                    .containsAll(losses.keySet());
                return read;
              });
      assertThat(entries)
          .filteredOn(e -> e.dissenting().contains("liar"))
          .hasSizeGreaterThanOrEqualTo(2)
          .allSatisfy(e -> assertThat(e.outcome()).isEqualTo(Verdict.Outcome.ACCEPTED));
      for (VerificationLog.Entry e : entries) {
        if (e.outcome() == Verdict.Outcome.ACCEPTED) {
          assertThat(e.agreeing().stream().filter(w -> !w.equals("liar")))
              .as("an accepted result never rests on the liar: %s", e)
              .hasSizeGreaterThanOrEqualTo(2);
        }
      }
    }
  }

  private static JobView get(Jobs jobs, String id) {
    try {
      return jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
