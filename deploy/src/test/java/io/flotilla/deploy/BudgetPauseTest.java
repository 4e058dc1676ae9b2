package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
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
        JobSpecParser.parse(
            """
            name: thrifty
            model: {type: gpt, layers: 2, width: 32, heads: 2, context: 12, dropout: 0.0}
            dataset:
              type: addition
              options: {digits: 2, train_examples: 2000, eval_examples: 100}
            training:
              steps: 40
              global_batch: 8
              micro_batches: 2
              seed: 3
              optimizer: {type: adamw, lr: 3e-3}
              schedule: {type: constant}
            parallelism: {pipeline_stages: 2, replicas: 1, schedule: 1f1b}
            checkpoint: {interval_steps: 2, keep_last: 1}
            payment: {unit: per-task, price: 0.001, budget: 0.005, currency: credits}
            """);
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
