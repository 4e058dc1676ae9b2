package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.WorkerPay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A job whose budget pays for fewer receipts than its workers earn is paused when the ledger
 * refuses to pay more: training stops with a reason naming the budget, and the ledger never commits
 * more than the budget.
 */
@ExtendWith(LogCapturingExtension.class)
class BudgetPauseTest {

  @Test
  void aSpentBudgetPausesTheJob() throws Exception {
    // 2 workers x 2 receipts per checkpoint, each receipt 2 micro-batches x 0.001 = 0.002
    // credits: a 0.005 budget pays two receipts, not the four of the first checkpoint.
    JobSpec spec =
        TinyAdditionJob.named("thrifty", 40)
            .seed(3)
            .noGradClip()
            .checkpoint(2, 1)
            .budget("0.005")
            .spec();
    try (LocalCluster cluster = LocalCluster.start(LocalCluster.demoConfig(), 2, true, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      var jobs = cluster.scheduler().jobs();
      String id =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();
      JobView paused =
          TestProbe.create(cluster.scheduler().node().system())
              .awaitAssert(
                  Duration.ofMinutes(3),
                  Duration.ofMillis(100),
                  () -> {
                    JobView v = jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
                    assertThat(v.phase()).isEqualTo(JobView.Phase.PAUSED);
                    return v;
                  });
      assertThat(paused.failureReason()).contains("budget exhausted");
      assertThat(paused.stepsCompleted()).isLessThan(40);
      assertThat(paused.spentUnits()).isLessThanOrEqualTo(5_000_000L);
      assertThat(paused.payments().values().stream().mapToLong(WorkerPay::receipts).sum())
          .isEqualTo(2);
    }
  }
}
