package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.metrics.NodeMetrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code GET /metrics} on real nodes: Prometheus text, cluster and worker gauges, JVM meters. */
@ExtendWith(LogCapturingExtension.class)
class NodeMetricsHttpTest {

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

  private HttpResponse<String> scrape(FlotillaNode node) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(node.httpUri().orElseThrow() + "/metrics"))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static FlotillaNode start(NodeConfig overrides) {
    return FlotillaNode.start(overrides.httpEnabled(true).over(GossipTesting.base()));
  }

  @Test
  void everyNodeServesItsOwnMetrics() throws Exception {
    seed = start(NodeConfig.overrides().roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER)));
    assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();

    HttpResponse<String> first = scrape(seed);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain")
        .contains("version=0.0.4");
    PrometheusText alone = PrometheusText.parse(first.body());
    assertThat(alone.value("flotilla_cluster_members", "status", "up")).hasValue(1.0);
    assertThat(alone.value("jvm_memory_used_bytes", "area", "heap").orElseThrow()).isPositive();
    assertThat(alone.value("process_uptime_seconds").orElseThrow()).isPositive();
    assertThat(alone.value("jvm_threads_live_threads").orElseThrow()).isPositive();

    worker =
        start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.WORKER))
                .seeds(List.of(new SeedAddress("127.0.0.1", seed.port()))));
    assertThat(worker.awaitUp(Duration.ofSeconds(20))).isTrue();
    assertThat(NodeMetrics.get(worker.system()).registry())
        .isNotSameAs(NodeMetrics.get(seed.system()).registry());

    GossipTesting.register(worker, GossipTesting.capabilities("w-metrics", worker));
    TestProbe<StatusReply<Done>> seedAck = TestProbe.create(seed.system());
    seed.reputation()
        .tell(new ReputationRegistry.Quarantine("w-metrics", "operator test", seedAck.ref()));
    assertThat(seedAck.receiveMessage(Duration.ofSeconds(5)).isSuccess()).isTrue();

    TestProbe<Object> waiter = TestProbe.create(seed.system());
    for (FlotillaNode node : List.of(seed, worker)) {
      waiter.awaitAssert(
          Duration.ofSeconds(10),
          () -> {
            PrometheusText metrics = PrometheusText.parse(scrape(node).body());
            assertThat(metrics.value("flotilla_cluster_members", "status", "up")).hasValue(2.0);
            assertThat(metrics.value("flotilla_cluster_members", "status", "joining"))
                .hasValue(0.0);
            assertThat(metrics.value("flotilla_cluster_unreachable_members")).hasValue(0.0);
            // Only the scheduler node holds the registry and reputation replicas, so only it knows.
            if (node == seed) {
              assertThat(metrics.value("flotilla_workers", "state", "registered")).hasValue(1.0);
              assertThat(metrics.value("flotilla_workers", "state", "quarantined")).hasValue(1.0);
            } else {
              assertThat(metrics.value("flotilla_workers", "state", "registered")).isEmpty();
              assertThat(metrics.value("flotilla_workers", "state", "quarantined")).isEmpty();
            }
            return null;
          });
    }
  }
}
