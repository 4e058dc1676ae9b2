package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import io.flotilla.protocol.NodeRole;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** One seed and three workers in one JVM on loopback, each with its own registry replica. */
@ExtendWith(LogCapturingExtension.class)
class WorkerRegistryClusterTest {

  private final List<FlotillaNode> nodes = new ArrayList<>();

  @AfterEach
  void stopNodes() {
    // One after another, newest first: stopping the last two at once stalls (ENVIRONMENT.md).
    List<FlotillaNode> reversed = new ArrayList<>(nodes);
    Collections.reverse(reversed);
    for (FlotillaNode node : reversed) {
      node.close();
    }
  }

  private FlotillaNode start(Config config) {
    FlotillaNode node = FlotillaNode.start(config);
    nodes.add(node);
    return node;
  }

  @Test
  void registryConvergesDropsACrashedWorkerAndTakesBackItsRestart() throws Exception {
    FlotillaNode seed = start(GossipTesting.seed());
    FlotillaNode w1 = start(GossipTesting.crashable(NodeRole.WORKER, seed.port(), 0));
    FlotillaNode w2 = start(GossipTesting.crashable(NodeRole.WORKER, seed.port(), 0));
    FlotillaNode w3 = start(GossipTesting.crashable(NodeRole.WORKER, seed.port(), 0));
    for (FlotillaNode node : nodes) {
      assertThat(node.awaitUp(Duration.ofSeconds(20))).as("%s Up", node.address()).isTrue();
    }

    register(w1, "w1");
    register(w2, "w2");
    register(w3, "w3");
    for (FlotillaNode node : nodes) {
      awaitWorkers(node, Set.of("w1", "w2", "w3"), Duration.ofSeconds(10));
    }

    int w2Port = w2.port();
    w2.crash();
    nodes.remove(w2);
    Duration detection = detectionTime(seed);
    for (FlotillaNode node : nodes) {
      awaitWorkers(node, Set.of("w1", "w3"), detection);
    }

    FlotillaNode w2again = start(GossipTesting.crashable(NodeRole.WORKER, seed.port(), w2Port));
    assertThat(w2again.awaitUp(Duration.ofSeconds(20))).isTrue();
    register(w2again, "w2");
    for (FlotillaNode node : nodes) {
      awaitWorkers(node, Set.of("w1", "w2", "w3"), Duration.ofSeconds(10));
    }
    assertThat(workers(seed).byId().get("w2").nodeAddress())
        .isEqualTo(w2again.address().toString());
  }

  @Test
  void aWorkerThatLeavesGracefullyIsRemovedByItsOwnUnregisterAndByTheOthers() throws Exception {
    FlotillaNode seed = start(GossipTesting.seed());
    FlotillaNode w1 = start(GossipTesting.joining(NodeRole.WORKER, seed.port(), 0));
    assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
    assertThat(w1.awaitUp(Duration.ofSeconds(20))).isTrue();
    register(w1, "w1");
    awaitWorkers(seed, Set.of("w1"), Duration.ofSeconds(10));

    TestProbe<StatusReply<Done>> probe = TestProbe.create(w1.system());
    w1.registry().tell(new WorkerRegistry.Unregister("w1", probe.ref()));
    assertThat(probe.receiveMessage(Duration.ofSeconds(5)).isSuccess()).isTrue();
    awaitWorkers(seed, Set.of(), Duration.ofSeconds(10));

    register(w1, "w1");
    awaitWorkers(seed, Set.of("w1"), Duration.ofSeconds(10));
    w1.close();
    nodes.remove(w1);
    awaitWorkers(seed, Set.of(), Duration.ofSeconds(10));
  }

  @Test
  void subscribersSeeEveryChange() throws Exception {
    FlotillaNode seed = start(GossipTesting.seed());
    assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
    TestProbe<WorkerRegistry.Workers> subscriber = TestProbe.create(seed.system());
    seed.registry().tell(new WorkerRegistry.SubscribeWorkers(subscriber.ref()));
    assertThat(subscriber.receiveMessage(Duration.ofSeconds(5)).byId()).isEmpty();
    register(seed, "on-seed");
    subscriber.fishForMessage(
        Duration.ofSeconds(5),
        w ->
            w.byId().containsKey("on-seed")
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
  }

  /** Failure detection, split-brain resolver and registry gossip, from this node's config. */
  private static Duration detectionTime(FlotillaNode node) {
    Config c = node.system().settings().config();
    return c.getDuration("pekko.cluster.failure-detector.acceptable-heartbeat-pause")
        .plus(c.getDuration("pekko.cluster.split-brain-resolver.stable-after"))
        .plus(c.getDuration("pekko.cluster.failure-detector.expected-response-after"))
        // leader actions, removal and registry gossip: a few of the shortened intervals
        .plus(Duration.ofSeconds(5));
  }

  private static void register(FlotillaNode node, String workerId) {
    TestProbe<StatusReply<Done>> probe = TestProbe.create(node.system());
    node.registry()
        .tell(new WorkerRegistry.Register(GossipTesting.capabilities(workerId, node), probe.ref()));
    assertThat(probe.receiveMessage(Duration.ofSeconds(5)).isSuccess())
        .as("register %s", workerId)
        .isTrue();
  }

  private static WorkerRegistry.Workers workers(FlotillaNode node) {
    TestProbe<WorkerRegistry.Workers> probe = TestProbe.create(node.system());
    node.registry().tell(new WorkerRegistry.GetWorkers(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(3));
  }

  private static void awaitWorkers(FlotillaNode node, Set<String> ids, Duration max) {
    TestProbe<WorkerRegistry.Workers> probe = TestProbe.create(node.system());
    probe.awaitAssert(
        max,
        Duration.ofMillis(100),
        () -> {
          assertThat(workers(node).byId().keySet())
              .as("registry on %s", node.address())
              .isEqualTo(ids);
          return null;
        });
  }
}
