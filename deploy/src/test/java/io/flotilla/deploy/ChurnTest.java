package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import io.flotilla.scheduler.planner.PlanResult;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Volunteers crash while a job trains: every few steps a worker of the job's plan dies without
 * leaving and a fresh one joins. The job is placed again after each loss, resumes from its last
 * checkpoint and ends with the loss of an undisturbed run of the same spec.
 */
@ExtendWith(LogCapturingExtension.class)
class ChurnTest {

  static final int STEPS = 120;
  static final int KILL_EVERY = 30;

  static JobSpec spec() {
    return TinyAdditionJob.named("churn", STEPS)
        .batch(32, 4)
        .seed(11)
        .schedule("{type: cosine, warmup_steps: 10, min_lr_ratio: 0.1}")
        .checkpoint(10, 2)
        .budget(null)
        .spec();
  }

  static Config config() {
    return ConfigFactory.parseString(
            """
            flotilla.scheduler.jobs.restart-backoff-min = 200ms
            flotilla.scheduler.jobs.restart-backoff-max = 1s
            flotilla.scheduler.jobs.max-restarts = 30
            flotilla.scheduler.jobs.step-timeout-min = 60s
            flotilla.worker.pipeline.receive-timeout = 20s
            flotilla.worker.data-plane.peer-timeout = 5s
            """)
        .withFallback(LocalCluster.demoConfig());
  }

  @Test
  void aJobSurvivesWorkersCrashingEveryFewStepsAndEndsWithTheCleanLoss() throws Exception {
    JobSpec spec = spec();
    double[] reference = DistributedTrainingTest.referenceLosses(spec, STEPS);
    // Two workers are placed, the third waits as a spare; every kill brings a fresh one.
    try (LocalCluster cluster = LocalCluster.start(config(), 3, true, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      Jobs jobs = cluster.scheduler().jobs();
      TestProbe<Object> probe = TestProbe.create(cluster.scheduler().node().system());
      WorkerChurn churn = new WorkerChurn(cluster, KILL_EVERY, Set.of());
      String id =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();

      JobView done =
          probe.awaitAssert(
              Duration.ofMinutes(8),
              Duration.ofMillis(100),
              () -> {
                JobView v = get(jobs, id);
                churn.observe(v);
                assertThat(v.phase())
                    .as("job %s (%s)", id, v.failureReason())
                    .isEqualTo(JobView.Phase.COMPLETED);
                return v;
              });

      List<WorkerChurn.Kill> kills = churn.kills();
      // Kills at 30, 60 and 90 completed steps (a step of this model takes tens of milliseconds,
      // so the job is looked at many times between two thresholds); the last may be missed when
      // the job runs from 90 to the end between two looks at it.
      assertThat(kills).hasSizeBetween(2, (STEPS - 1) / KILL_EVERY);
      for (int i = 0; i < kills.size(); i++) {
        assertThat(kills.get(i).step()).isGreaterThanOrEqualTo((i + 1L) * KILL_EVERY);
      }
      assertThat(kills).extracting(WorkerChurn.Kill::workerId).doesNotHaveDuplicates();
      // Each kill before the last few steps interrupts the job (a kill late in the run may land
      // after its last step was done).
      assertThat(done.restarts()).isGreaterThanOrEqualTo(2);
      assertThat(done.stepsCompleted()).isEqualTo(STEPS);
      assertThat(done.plan().stages().stream().flatMap(s -> s.workers().stream()))
          .extracting(PlanResult.Placement::workerId)
          .doesNotContainAnyElementsOf(kills.stream().map(WorkerChurn.Kill::workerId).toList());
      assertThat(cluster.workers())
          .extracting(w -> w.workerId())
          .containsAll(kills.stream().map(WorkerChurn.Kill::replacement).toList());
      // Data order and initialisation depend only on (seed, step, replica), so the losses are
      // normally exactly equal; the contract is the final loss within 1% of a clean run.
      double clean = reference[STEPS - 1];
      assertThat(done.lastLoss()).isCloseTo(clean, within(0.01 * Math.abs(clean)));
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
