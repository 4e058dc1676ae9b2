package io.flotilla.scheduler.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import io.flotilla.scheduler.job.JobManager;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The jobs API on a real scheduler node, over HTTP on loopback. */
@ExtendWith(LogCapturingExtension.class)
@Timeout(120)
class JobsApiTest {

  @TempDir static Path dataDir;

  private static SchedulerNode scheduler;
  private static String url;
  private static String spec;
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    spec = Files.readString(Path.of("../examples/addition-gpt.yaml"));
    scheduler =
        SchedulerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .set("flotilla.scheduler.persistence.h2-directory", dataDir.toString())
                .set("flotilla.scheduler.http.tokens", Map.of("token-a", "team-a"))
                .set("flotilla.scheduler.http.single-token", "token-b")
                .set("flotilla.scheduler.http.single-token-team", "team-b")
                .set("flotilla.scheduler.http.max-body-bytes", "64k")
                .over(GossipTesting.base()));
    assertThat(scheduler.node().awaitUp(Duration.ofSeconds(20))).isTrue();
    url = scheduler.apiUrl().orElseThrow();
  }

  @AfterAll
  static void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
  }

  private static HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    return send(method, path, token, body, null);
  }

  private static HttpResponse<String> send(
      String method, String path, String token, String body, String idempotencyKey)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (idempotencyKey != null) {
      request.header("Idempotency-Key", idempotencyKey);
    }
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aSubmissionRepeatedWithItsIdempotencyKeyGetsTheSameJob() throws Exception {
    HttpResponse<String> first = send("POST", "/jobs", "token-a", spec, "retry-me-1");
    assertThat(first.statusCode()).isEqualTo(201);
    String id = JSON.readTree(first.body()).get("id").asText();
    HttpResponse<String> again = send("POST", "/jobs", "token-a", spec, "retry-me-1");
    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(JSON.readTree(again.body()).get("id").asText()).isEqualTo(id);
    long listed = 0;
    for (JsonNode j : JSON.readTree(send("GET", "/jobs", "token-a", null).body()).get("jobs")) {
      listed += j.get("id").asText().equals(id) ? 1 : 0;
    }
    assertThat(listed).as("listed once").isEqualTo(1);

    // Another team's key never names this team's job.
    HttpResponse<String> otherTeam = send("POST", "/jobs", "token-b", spec, "retry-me-1");
    assertThat(JSON.readTree(otherTeam.body()).get("id").asText()).isNotEqualTo(id);

    HttpResponse<String> otherSpec =
        send("POST", "/jobs", "token-a", spec.replace("steps: 3000", "steps: 3001"), "retry-me-1");
    assertThat(otherSpec.statusCode()).isEqualTo(409);
    assertThat(JSON.readTree(otherSpec.body()).get("error").asText())
        .contains("job id " + id + " is already used by another submission");

    HttpResponse<String> badKey = send("POST", "/jobs", "token-a", spec, "has space");
    assertThat(badKey.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(badKey.body()).get("error").asText())
        .contains("Idempotency-Key: an idempotency key must be 1 to 128 printable ASCII");
  }

  @Test
  void requestsWithoutAKnownTokenAreRefusedWith401() throws Exception {
    HttpResponse<String> missing = send("GET", "/jobs", null, null);
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(missing.body()).get("error").asText())
        .contains("missing bearer token");
    assertThat(missing.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));

    HttpResponse<String> wrong = send("POST", "/jobs", "not-a-token", spec);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(wrong.body()).get("error").asText()).contains("unknown bearer token");
  }

  @Test
  void anInvalidSpecGets400WithEveryErrorAndItsPath() throws Exception {
    String invalid =
        spec.replace("pipeline_stages: 2", "pipeline_stages: 0").replace("lr: 1e-3", "lr: -1");
    HttpResponse<String> response = send("POST", "/jobs", "token-a", invalid);
    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode errors = JSON.readTree(response.body()).get("errors");
    List<String> paths = new ArrayList<>();
    errors.forEach(e -> paths.add(e.get("path").asText()));
    assertThat(paths).contains("parallelism.pipeline_stages", "training.optimizer.lr");
    errors.forEach(e -> assertThat(e.get("message").asText()).isNotBlank());
  }

  @Test
  void aBodyOverTheLimitGets413() throws Exception {
    HttpResponse<String> response =
        send("POST", "/jobs", "token-a", spec + "#".repeat(70 * 1024) + "\n");
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(response.body()).get("error").asText()).contains("larger than");
  }

  @Test
  void aTeamSubmitsListsFollowsAndCancelsItsOwnJobsOnly() throws Exception {
    HttpResponse<String> created = send("POST", "/jobs", "token-a", spec);
    assertThat(created.statusCode()).isEqualTo(201);
    String id = JSON.readTree(created.body()).get("id").asText();
    assertThat(created.headers().firstValue("Location")).hasValue("/jobs/" + id);

    JsonNode job = JSON.readTree(send("GET", "/jobs/" + id, "token-a", null).body());
    assertThat(job.get("state").asText()).isEqualTo("queued");
    assertThat(job.get("spec").get("name").asText()).isEqualTo("addition-gpt");
    assertThat(job.get("waiting").get("workers_needed").asInt()).isEqualTo(4);

    assertThat(send("GET", "/jobs/" + id, "token-b", null).statusCode()).isEqualTo(404);
    assertThat(send("DELETE", "/jobs/" + id, "token-b", null).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/jobs/" + id + "/events", "token-b", null).statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(send("GET", "/jobs", "token-b", null).body()).get("jobs")).isEmpty();
    JsonNode listed = JSON.readTree(send("GET", "/jobs", "token-a", null).body()).get("jobs");
    List<String> ids = new ArrayList<>();
    listed.forEach(j -> ids.add(j.get("id").asText()));
    assertThat(ids).contains(id);

    HttpRequest follow =
        HttpRequest.newBuilder(URI.create(url + "/jobs/" + id + "/events"))
            .header("Authorization", "Bearer token-a")
            .build();
    HttpResponse<InputStream> stream =
        CLIENT.send(follow, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(stream.statusCode()).isEqualTo(200);
    assertThat(stream.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    List<String> states = new ArrayList<>();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        if (line.startsWith("data:")) {
          String state = JSON.readTree(line.substring(5)).get("state").asText();
          states.add(state);
          if (state.equals("queued")) {
            HttpResponse<String> cancelled = send("DELETE", "/jobs/" + id, "token-a", null);
            assertThat(cancelled.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(cancelled.body()).get("state").asText())
                .isEqualTo("cancelled");
          }
        }
      }
    }
    assertThat(states).containsExactly("queued", "cancelled");

    HttpResponse<String> again = send("DELETE", "/jobs/" + id, "token-a", null);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(JSON.readTree(again.body()).get("error").asText()).contains("already cancelled");
  }

  @Test
  void unknownJobsAndPathsGetJsonErrors() throws Exception {
    HttpResponse<String> unknown = send("GET", "/jobs/j-none", "token-a", null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(unknown.body()).get("error").asText()).contains("no job j-none");
    for (String path : List.of("/jobs/j-none/events", "/jobs/j-none/metrics")) {
      assertThat(send("GET", path, "token-a", null).statusCode()).as(path).isEqualTo(404);
    }
    assertThat(send("DELETE", "/jobs/j-none", "token-a", null).statusCode()).isEqualTo(404);
    // Reading an id nobody submitted starts no job manager (Cluster Sharding would remember it).
    TestProbe<ShardRegion.CurrentShardRegionState> shards =
        TestProbe.create(scheduler.node().system());
    ClusterSharding.get(scheduler.node().system())
        .shardState()
        .tell(new GetShardRegionState(JobManager.TYPE_KEY, shards.ref()));
    List<String> started = new ArrayList<>();
    shards
        .receiveMessage(Duration.ofSeconds(10))
        .getShards()
        .forEach(shard -> started.addAll(shard.getEntityIds()));
    assertThat(started).doesNotContain("j-none");
    HttpResponse<String> method = send("PUT", "/jobs", "token-a", "x");
    assertThat(method.statusCode()).isEqualTo(405);
    assertThat(JSON.readTree(method.body()).has("error")).isTrue();
  }
}
