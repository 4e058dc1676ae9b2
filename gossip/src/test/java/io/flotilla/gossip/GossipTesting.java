package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;

/** Helpers for tests that start real nodes on loopback with shortened cluster intervals. */
public final class GossipTesting {

  private GossipTesting() {}

  /** The test config (application-test.conf), unresolved; {@link NodeConfig} adds the rest. */
  public static Config base() {
    return ConfigFactory.parseResources("application-test.conf");
  }

  /** Config of a seed node on a free port. */
  public static Config seed() {
    return NodeConfig.overrides().roles(Set.of(NodeRole.SEED)).over(base());
  }

  /**
   * Config of a seed node on a free port that is also a scheduler node, so it holds the reputation
   * replica and the placement board.
   */
  public static Config schedulerSeed() {
    return NodeConfig.overrides().roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER)).over(base());
  }

  /** Config of a node with {@code role} joining through {@code seedPort}, on {@code port}. */
  public static Config joining(NodeRole role, int seedPort, int port) {
    return NodeConfig.overrides()
        .roles(Set.of(role))
        .port(port)
        .seeds(List.of(new SeedAddress("127.0.0.1", seedPort)))
        .over(base());
  }

  /** Like {@link #joining} but terminating without leaving, so {@link FlotillaNode#crash} works. */
  public static Config crashable(NodeRole role, int seedPort, int port) {
    return NodeConfig.overrides()
        .roles(Set.of(role))
        .port(port)
        .seeds(List.of(new SeedAddress("127.0.0.1", seedPort)))
        .set("pekko.coordinated-shutdown.run-by-actor-system-terminate", false)
        .over(base());
  }

  /**
   * Registers {@code caps} through {@code node}'s registry and waits until a replica confirmed it:
   * a worker node's proxy learns of the scheduler nodes' replicas through the receptionist a moment
   * after the node is Up, and until then answers that none is known.
   */
  public static void register(FlotillaNode node, WorkerCapabilities caps) {
    TestProbe<StatusReply<Done>> ack = TestProbe.create(node.system());
    ack.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          node.registry().tell(new WorkerRegistry.Register(caps, ack.ref()));
          StatusReply<Done> reply = ack.receiveMessage(Duration.ofSeconds(5));
          assertThat(reply.isSuccess()).as("register %s: %s", caps.workerId(), reply).isTrue();
          return null;
        });
  }

  /** Plausible capabilities of a CPU worker on {@code node}. */
  public static WorkerCapabilities capabilities(String workerId, FlotillaNode node) {
    return new WorkerCapabilities(
        workerId,
        node.address().toString(),
        2,
        1L << 30,
        null,
        25.0,
        "cpu",
        null,
        null,
        Map.of("region", "test"),
        System.currentTimeMillis());
  }
}
