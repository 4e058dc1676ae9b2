package io.flotilla.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.worker.fault.FaultMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker started with {@code flotilla.worker.fault.mode = lie-capabilities} advertises inflated
 * memory and speed in the registry that every node replicates, and nothing that gives it away.
 */
@ExtendWith(LogCapturingExtension.class)
class LyingWorkerNodeTest {

  private FlotillaNode seed;
  private WorkerNode worker;

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.close();
    }
    if (seed != null) {
      seed.close();
    }
  }

  @Test
  void aLyingWorkerPublishesInflatedCapabilitiesWithoutAnnouncingItself() throws Exception {
    seed = FlotillaNode.start(GossipTesting.schedulerSeed());
    worker =
        WorkerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.WORKER))
                .seeds(List.of(new SeedAddress("127.0.0.1", seed.port())))
                .set("flotilla.worker.agent.memory", "1GiB")
                .set("flotilla.worker.agent.labels.region", "eu-test")
                .set("flotilla.worker.fault.mode", "lie-capabilities")
                .set("flotilla.worker.fault.capability-inflation", 4.0)
                .set("flotilla.worker.data-plane.port", 0)
                .set("flotilla.worker.data-plane.bind-address", "127.0.0.1")
                .over(GossipTesting.base()));
    assertThat(worker.faultInjector().mode()).isEqualTo(FaultMode.LIE_CAPABILITIES);

    TestProbe<WorkerRegistry.Workers> probe = TestProbe.create(seed.system());
    WorkerCapabilities caps =
        probe.awaitAssert(
            Duration.ofSeconds(20),
            Duration.ofMillis(100),
            () -> {
              seed.registry().tell(new WorkerRegistry.GetWorkers(probe.ref()));
              WorkerCapabilities c =
                  probe.receiveMessage(Duration.ofSeconds(1)).byId().get(worker.workerId());
              assertThat(c).isNotNull();
              assertThat(c.dataPlane()).isNotNull();
              return c;
            });
    // 1 GiB offered, 4 GiB advertised; the measured speed is inflated the same way (the honest
    // measurement is never published, so only its lower bound can be checked here).
    assertThat(caps.memoryBytes()).isEqualTo(4L << 30);
    assertThat(caps.cpuGflops()).isPositive();
    assertThat(caps.labels()).isEqualTo(Map.of("region", "eu-test"));
    assertThat(caps.toString()).doesNotContainIgnoringCase("fault").doesNotContain("lie");
  }
}
