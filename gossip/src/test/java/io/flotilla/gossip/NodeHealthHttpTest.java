package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.protocol.NodeRole;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** /health/alive, /health/ready, /cluster/members and /flotilla/workers on a real node. */
@ExtendWith(LogCapturingExtension.class)
class NodeHealthHttpTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private FlotillaNode worker;
  private FlotillaNode seed;

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.close();
    }
    if (seed != null) {
      seed.close();
    }
  }

  private HttpResponse<String> get(FlotillaNode node, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(node.httpUri().orElseThrow() + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aliveAtOnceReadyWhenUpMembersAndWorkersListed() throws Exception {
    // A worker whose seed does not run yet: alive, but not ready.
    int seedPort;
    try (var probeSocket = new java.net.ServerSocket(0)) {
      seedPort = probeSocket.getLocalPort();
    }
    worker =
        FlotillaNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.WORKER))
                .seeds(List.of(new SeedAddress("127.0.0.1", seedPort)))
                .httpEnabled(true)
                .over(GossipTesting.base()));
    assertThat(get(worker, "/health/alive").statusCode()).isEqualTo(200);
    assertThat(get(worker, "/health/ready").statusCode()).isEqualTo(500);

    seed =
        FlotillaNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .port(seedPort)
                .httpEnabled(true)
                .over(GossipTesting.base()));
    assertThat(worker.awaitUp(Duration.ofSeconds(20))).isTrue();
    // The readiness check reads the cluster's read view, which learns of Up a moment after the
    // SelfUp event awaitUp waits for.
    TestProbe.create(worker.system())
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertThat(get(worker, "/health/ready").statusCode()).isEqualTo(200);
              return null;
            });

    GossipTesting.register(worker, GossipTesting.capabilities("w-http", worker));

    ObjectMapper json = new ObjectMapper();
    TestProbe<Object> waiter = TestProbe.create(seed.system());
    waiter.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          JsonNode members = json.readTree(get(seed, "/cluster/members").body());
          assertThat(members.get("members")).hasSize(2);
          assertThat(members.get("unreachable")).isEmpty();
          JsonNode workers = json.readTree(get(seed, "/flotilla/workers").body());
          assertThat(workers.get("workers")).hasSize(1);
          assertThat(workers.get("workers").get(0).get("workerId").asText()).isEqualTo("w-http");
          return null;
        });
  }
}
