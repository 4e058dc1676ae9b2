package io.flotilla.gossip.reputation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.protocol.NodeRole;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** GET /flotilla/reputation, and an operator's quarantine and release over HTTP. */
@ExtendWith(LogCapturingExtension.class)
class ReputationHttpTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();
  private FlotillaNode node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  private FlotillaNode start(boolean readOnly) throws Exception {
    node =
        FlotillaNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .httpEnabled(true)
                .set("pekko.management.http.route-providers-read-only", readOnly)
                .over(GossipTesting.base()));
    assertThat(node.awaitUp(Duration.ofSeconds(20))).isTrue();
    return node;
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(node.httpUri().orElseThrow() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(15))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode record(String workerId) throws Exception {
    for (JsonNode r :
        json.readTree(send("GET", "/flotilla/reputation").body()).path("reputation")) {
      if (r.path("workerId").asText().equals(workerId)) {
        return r;
      }
    }
    return null;
  }

  @Test
  void anOperatorQuarantinesAndReleasesAWorkerOverHttp() throws Exception {
    start(false);
    assertThat(json.readTree(send("GET", "/flotilla/reputation").body()).path("reputation"))
        .isEmpty();

    HttpResponse<String> q = send("POST", "/flotilla/reputation/w-7/quarantine?reason=caught");
    assertThat(q.statusCode()).as(q.body()).isEqualTo(200);
    TestProbe<Object> wait = TestProbe.create(node.system());
    wait.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          JsonNode r = record("w-7");
          assertThat(r).isNotNull();
          assertThat(r.path("quarantined").asBoolean()).isTrue();
          assertThat(r.path("quarantineReason").asText()).isEqualTo("caught");
          return null;
        });

    assertThat(send("POST", "/flotilla/reputation/w-7/unquarantine?reason=fixed").statusCode())
        .isEqualTo(200);
    wait.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          assertThat(record("w-7").path("quarantined").asBoolean()).isFalse();
          return null;
        });
    HttpResponse<String> again = send("POST", "/flotilla/reputation/w-7/unquarantine?reason=x");
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.body()).contains("worker w-7 is not quarantined");

    HttpResponse<String> noReason = send("POST", "/flotilla/reputation/w-7/quarantine");
    assertThat(noReason.statusCode()).isEqualTo(400);
    assertThat(noReason.body()).contains("a reason is required");
    assertThat(send("POST", "/flotilla/reputation/w-7/pardon?reason=x").statusCode())
        .isEqualTo(404);
  }

  @Test
  void aReadOnlyEndpointRefusesChangesAndSaysHowToAllowThem() throws Exception {
    start(true);
    HttpResponse<String> q = send("POST", "/flotilla/reputation/w-1/quarantine?reason=caught");
    assertThat(q.statusCode()).isEqualTo(403);
    assertThat(q.body()).contains("pekko.management.http.route-providers-read-only = off");
    assertThat(record("w-1")).isNull();
  }
}
