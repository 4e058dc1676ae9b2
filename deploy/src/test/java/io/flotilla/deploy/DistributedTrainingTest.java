package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.engine.train.Trainer;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.worker.WorkerNode;
import io.flotilla.worker.pipeline.EngineJob;
import io.flotilla.worker.pipeline.StageCheckpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job submitted to a real local cluster (seed, scheduler, three workers, each with its own Aeron
 * data plane on loopback UDP) is placed and trained by its job manager; the losses it journals
 * equal single-process training of the same global batch, its checkpoint can be downloaded, and
 * when a worker running one of its stages dies mid-job, the job is placed again on the workers left
 * and still ends with exactly the clean run's losses.
 */
@ExtendWith(LogCapturingExtension.class)
class DistributedTrainingTest {

  static final int STEPS = 8;
  static final String TOKEN = "test-token";

  static JobSpec spec() {
    return TinyAdditionJob.named("tiny-addition", STEPS).checkpoint(3, 2).spec();
  }

  static Config config() {
    return ConfigFactory.parseString(
            """
            flotilla.scheduler.http.single-token = "%s"
            flotilla.scheduler.http.single-token-team = "team-a"
            flotilla.scheduler.jobs.step-timeout-min = 60s
            flotilla.worker.pipeline.receive-timeout = 20s
            flotilla.worker.data-plane.peer-timeout = 5s
            """
                .formatted(TOKEN))
        .withFallback(LocalCluster.demoConfig());
  }

  @Test
  void trainsLikeOneProcessAndSurvivesALostWorker(@TempDir Path tmp) throws Exception {
    JobSpec spec = spec();
    double[] reference = referenceLosses(spec, STEPS);
    try (LocalCluster cluster = LocalCluster.start(config(), 3, true, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      var jobs = cluster.scheduler().jobs();
      var probe = TestProbe.create(cluster.scheduler().node().system());

      // A clean run.
      String clean =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();
      JobView done = awaitPhase(probe, jobs, clean, JobView.Phase.COMPLETED);
      assertThat(done.stepsCompleted()).isEqualTo(STEPS);
      assertThat(done.restarts()).isZero();
      assertThat(done.checkpoint().step()).isEqualTo(STEPS);
      String api = cluster.scheduler().apiUrl().orElseThrow();
      JsonNode metrics = getJson(api + "/jobs/" + clean + "/metrics");
      assertThat(metrics.path("steps")).hasSize(STEPS);
      for (int s = 0; s < STEPS; s++) {
        assertThat(metrics.path("steps").get(s).path("loss").asDouble())
            .as("loss of step %d", s + 1)
            .isCloseTo(reference[s], within(1e-5 * Math.abs(reference[s])));
      }
      // The link between the two stages was measured over the data plane before the first step.
      List<String> pair =
          done.plan().stages().stream().map(st -> st.workers().get(0).workerId()).toList();
      var link =
          cluster
              .scheduler()
              .jobs()
              .links()
              .matrix()
              .measured()
              .get(io.flotilla.scheduler.planner.LinkMatrix.key(pair.get(0), pair.get(1)));
      assertThat(link).as("measured link %s", pair).isNotNull();
      assertThat(link.latencySeconds()).isPositive().isLessThan(1.0);
      assertThat(link.bytesPerSecond()).isGreaterThan(1e6);
      assertThat(done.workers()).hasSize(2);
      done.workers().values().forEach(w -> assertThat(w.steps()).isEqualTo(STEPS));
      // Each worker is paid one receipt per step: 2 micro-batches x 0.001 credits = 2,000,000
      // ledger units (1e9 per credit).
      JobView paid = awaitPaid(probe, jobs, clean, 2L * STEPS);
      assertThat(paid.payments()).hasSize(2);
      paid.payments()
          .values()
          .forEach(
              p -> {
                assertThat(p.receipts()).isEqualTo(STEPS);
                assertThat(p.units()).isEqualTo(STEPS * 2_000_000L);
                assertThat(p.address()).matches("0x[0-9a-f]{40}");
              });

      // The checkpoint downloads and hashes to what the job recorded.
      JsonNode checkpoint = getJson(api + "/jobs/" + clean + "/checkpoint");
      assertThat(checkpoint.path("step").asLong()).isEqualTo(STEPS);
      for (JsonNode shard : checkpoint.path("shards")) {
        Path file = tmp.resolve("stage-" + shard.path("stage").asInt() + ".safetensors");
        HttpResponse<Path> r =
            HttpClient.newHttpClient()
                .send(
                    authorized(api + shard.path("path").asText()).build(),
                    HttpResponse.BodyHandlers.ofFile(file));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(StageCheckpoint.sha256(file)).isEqualTo(shard.path("sha256").asText());
      }
      assertThat(
              getStatus(
                  HttpRequest.newBuilder(URI.create(api + "/jobs/" + clean + "/checkpoint"))
                      .build()))
          .as("without a token")
          .isEqualTo(401);

      // A run in which a worker of the plan dies after the first checkpoint.
      String churn =
          jobs.submit("team-a", spec).toCompletableFuture().get(30, TimeUnit.SECONDS).jobId();
      JobView running =
          probe.awaitAssert(
              Duration.ofMinutes(3),
              Duration.ofMillis(20),
              () -> {
                JobView v = get(jobs, churn);
                assertThat(v.checkpoint()).isNotNull();
                assertThat(v.stepsCompleted()).isGreaterThanOrEqualTo(4);
                return v;
              });
      String victim = running.plan().stages().get(1).workers().get(0).workerId();
      WorkerNode node =
          cluster.workers().stream()
              .filter(w -> w.workerId().equals(victim))
              .findFirst()
              .orElseThrow();
      node.node().system().terminate(); // a crash: no leaving, no unregistering
      node.dataPlane().close();
      JobView recovered = awaitPhase(probe, jobs, churn, JobView.Phase.COMPLETED);
      assertThat(recovered.restarts()).isGreaterThanOrEqualTo(1);
      assertThat(recovered.stepsCompleted()).isEqualTo(STEPS);
      assertThat(recovered.plan().stages().stream().flatMap(s -> s.workers().stream()))
          .extracting(PlanResult.Placement::workerId)
          .doesNotContain(victim);
      // Work thrown away by the interruption is not paid, and no step is paid twice.
      JobView churnPaid = awaitPaid(probe, jobs, churn, 2L * STEPS);
      assertThat(churnPaid.spentUnits()).isEqualTo(2L * STEPS * 2_000_000L);
      JsonNode churned = getJson(api + "/jobs/" + churn + "/metrics");
      assertThat(churned.path("steps")).hasSize(STEPS);
      for (int s = 0; s < STEPS; s++) {
        assertThat(churned.path("steps").get(s).path("loss").asDouble())
            .as("loss of step %d after the worker died", s + 1)
            .isCloseTo(reference[s], within(1e-5 * Math.abs(reference[s])));
      }
    }
  }

  /** The job once the ledger accepted {@code receipts} of its receipts in all. */
  private static JobView awaitPaid(
      TestProbe<?> probe, io.flotilla.scheduler.job.Jobs jobs, String id, long receipts) {
    return probe.awaitAssert(
        Duration.ofMinutes(2),
        Duration.ofMillis(100),
        () -> {
          JobView v = get(jobs, id);
          assertThat(v.payments().values().stream().mapToLong(p -> p.receipts()).sum())
              .isEqualTo(receipts);
          return v;
        });
  }

  private static JobView awaitPhase(
      TestProbe<?> probe, io.flotilla.scheduler.job.Jobs jobs, String id, JobView.Phase phase) {
    return probe.awaitAssert(
        Duration.ofMinutes(4),
        Duration.ofMillis(50),
        () -> {
          JobView v = get(jobs, id);
          assertThat(v.phase()).as("job %s (%s)", id, v.failureReason()).isEqualTo(phase);
          return v;
        });
  }

  private static JobView get(io.flotilla.scheduler.job.Jobs jobs, String id) {
    try {
      return jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static HttpRequest.Builder authorized(String url) {
    return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN);
  }

  private static JsonNode getJson(String url) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(authorized(url).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
    return new ObjectMapper().readTree(r.body());
  }

  private static int getStatus(HttpRequest request) throws Exception {
    return HttpClient.newHttpClient()
        .send(request, HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** One process, the same global batch, the same seed. */
  static double[] referenceLosses(JobSpec spec, int steps) throws Exception {
    JobConfig job = EngineJob.singleProcess(spec);
    try (CpuBackend backend = new CpuBackend(1)) {
      Dataset data = LocalTrainer.openDataset(job);
      Model model = LocalTrainer.buildModel(backend, job, data);
      Trainer trainer = new Trainer(backend, model, data, job.training());
      double[] losses = new double[steps];
      for (int step = 0; step < steps; step++) {
        losses[step] = trainer.step(step).loss();
      }
      return losses;
    }
  }
}
