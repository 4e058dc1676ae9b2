package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.PrometheusText;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import io.flotilla.worker.WorkerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A paid job trained on a local cluster (seed, scheduler with the ledger, two workers) shows up in
 * what every node serves at {@code GET /metrics}: the scheduler's jobs, steps, tokens, verification
 * and ledger settlement, each worker's data-plane traffic, and everyone's cluster view and JVM.
 */
@ExtendWith(LogCapturingExtension.class)
class ClusterMetricsTest {

  private static final int STEPS = 4;
  private static final int GLOBAL_BATCH = 8;
  private static final long UNITS_PER_RECEIPT = 2_000_000L;

  private final HttpClient http = HttpClient.newHttpClient();

  private static JobSpec spec() {
    return TinyAdditionJob.named("metrics-addition", STEPS)
        .batch(GLOBAL_BATCH, 2)
        .checkpoint(2, 1)
        .spec();
  }

  private static Config config() {
    return ConfigFactory.parseString("flotilla.gossip.http.enabled = on")
        .withFallback(DistributedTrainingTest.config());
  }

  private PrometheusText scrape(FlotillaNode node) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(node.httpUri().orElseThrow() + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
      return PrometheusText.parse(r.body());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void everyNodeServesTheMetricsOfAJobThatRan() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(config(), 2, false, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      FlotillaNode scheduler = cluster.scheduler().node();
      Jobs jobs = cluster.scheduler().jobs();
      TestProbe<Object> probe = TestProbe.create(scheduler.system());

      String id =
          jobs.submit("team-a", spec()).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();
      // While its manager runs, the job's last step shows under its id.
      probe.awaitAssert(
          Duration.ofMinutes(3),
          Duration.ofMillis(20),
          () -> {
            PrometheusText m = scrape(scheduler);
            assertThat(m.value("flotilla_job_steps_completed", "job", id).orElse(0))
                .isGreaterThanOrEqualTo(1);
            assertThat(m.value("flotilla_job_tokens_per_second", "job", id).orElseThrow())
                .isPositive();
            assertThat(m.value("flotilla_job_step_duration_seconds", "job", id).orElseThrow())
                .isPositive();
            return null;
          });
      probe.awaitAssert(
          Duration.ofMinutes(3),
          Duration.ofMillis(100),
          () -> {
            JobView v = jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(v.phase())
                .as("job %s (%s)", id, v.failureReason())
                .isEqualTo(JobView.Phase.COMPLETED);
            return null;
          });

      probe.awaitAssert(
          Duration.ofMinutes(2),
          Duration.ofMillis(100),
          () -> {
            PrometheusText m = scrape(scheduler);
            assertThat(m.value("flotilla_cluster_members", "status", "up")).hasValue(4.0);
            assertThat(m.value("flotilla_workers", "state", "registered")).hasValue(2.0);
            assertThat(m.value("flotilla_jobs_submitted_total")).hasValue(1.0);
            assertThat(m.value("flotilla_jobs_ended_total", "state", "completed")).hasValue(1.0);
            assertThat(m.value("flotilla_jobs_ended_total", "state", "failed")).hasValue(0.0);
            assertThat(m.value("flotilla_job_step_seconds_count")).hasValue((double) STEPS);
            assertThat(m.value("flotilla_job_step_seconds_sum").orElseThrow()).isPositive();
            assertThat(m.value("flotilla_job_tokens_total").orElseThrow())
                .isGreaterThanOrEqualTo((double) STEPS * GLOBAL_BATCH);
            // One replica per stage and no shadows (no redundancy asked, no spares): nothing was
            // verified, so nothing is counted valid; each stage ran each step once.
            assertThat(m.value("flotilla_verification_results_total", "outcome", "valid"))
                .hasValue(0.0);
            assertThat(m.value("flotilla_slot_steps_total", "run", "own")).hasValue(2.0 * STEPS);
            assertThat(m.value("flotilla_slot_steps_total", "run", "shadow")).hasValue(0.0);
            assertThat(m.value("flotilla_verification_results_total", "outcome", "invalid"))
                .hasValue(0.0);
            // One receipt per worker and step, each paid 0.001 credits x 2 micro-batches.
            assertThat(m.value("flotilla_ledger_receipts_total", "outcome", "accepted"))
                .hasValue(2.0 * STEPS);
            assertThat(m.value("flotilla_ledger_payments_total")).hasValue(2.0 * STEPS);
            assertThat(m.value("flotilla_ledger_batches_total").orElseThrow())
                .isGreaterThanOrEqualTo(1);
            assertThat(m.value("flotilla_ledger_settled_units_total"))
                .hasValue(2.0 * STEPS * UNITS_PER_RECEIPT);
            assertThat(m.value("flotilla_ledger_balance_units", "account", "worker"))
                .hasValue(2.0 * STEPS * UNITS_PER_RECEIPT);
            assertThat(m.value("jvm_memory_used_bytes", "area", "heap").orElseThrow()).isPositive();
            return null;
          });

      for (WorkerNode worker : cluster.workers()) {
        PrometheusText m = scrape(worker.node());
        assertThat(m.value("flotilla_dataplane_sent_bytes_total").orElseThrow())
            .as("bytes sent by %s", worker.workerId())
            .isPositive();
        assertThat(m.value("flotilla_dataplane_received_bytes_total").orElseThrow())
            .as("bytes received by %s", worker.workerId())
            .isPositive();
        assertThat(m.value("flotilla_dataplane_sent_tensors_total").orElseThrow()).isPositive();
        assertThat(m.value("flotilla_dataplane_rejected_tensors_total")).hasValue(0.0);
        assertThat(m.value("flotilla_cluster_members", "status", "up")).hasValue(4.0);
        // Each node has its own registry: job and ledger meters live where those run.
        assertThat(m.value("flotilla_ledger_payments_total")).isEmpty();
        assertThat(m.value("flotilla_jobs_submitted_total")).isEmpty();
      }
    }
  }
}
