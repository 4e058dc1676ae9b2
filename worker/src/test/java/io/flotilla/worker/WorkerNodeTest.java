package io.flotilla.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.testing.SerializationAssertions;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.protocol.worker.WorkerCapabilities;
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
 * A worker joins through a seed that is also a scheduler node, measures itself and shows up, with
 * its stage host, in the seed's registry replica.
 */
@ExtendWith(LogCapturingExtension.class)
class WorkerNodeTest {

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
  void workerPublishesMeasuredCapabilitiesUpdatesThemAndUnregistersOnLeave() throws Exception {
    seed = FlotillaNode.start(GossipTesting.schedulerSeed());
    worker =
        WorkerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.WORKER))
                .seeds(List.of(new SeedAddress("127.0.0.1", seed.port())))
                .set("flotilla.worker.agent.labels.region", "eu-test")
                .set("flotilla.worker.data-plane.port", 0)
                .set("flotilla.worker.data-plane.bind-address", "127.0.0.1")
                .over(GossipTesting.base()));

    WorkerCapabilities caps = awaitEntry(c -> c.cpuGflops() > 0 && c.placeable());
    assertThat(caps.dataPlane()).isEqualTo(worker.dataPlane().endpoint());
    assertThat(caps.stageHost().path().address()).isEqualTo(worker.node().address());
    assertThat(caps.stageHost().path().name()).isEqualTo("flotillaStageHost");
    assertThat(caps.dataPlane().port()).isPositive();
    assertThat(caps.workerId()).isEqualTo(worker.workerId()).startsWith("worker-127.0.0.1-");
    assertThat(caps.nodeAddress()).isEqualTo(worker.node().address().toString());
    assertThat(caps.cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(caps.memoryBytes()).isPositive();
    assertThat(caps.labels()).isEqualTo(Map.of("region", "eu-test"));
    io.flotilla.engine.backend.cuda.CudaProbe.Result cuda =
        io.flotilla.engine.backend.cuda.CudaProbe.probeOnce();
    // the default backend is auto: CUDA where usable, else the CPU without a GPU entry
    assertThat(caps.backend()).isEqualTo(cuda.available() ? "cuda" : "cpu");
    if (cuda.available()) {
      assertThat(caps.gpu().model()).isEqualTo(cuda.device().name());
      assertThat(caps.gpu().measuredTflops()).isPositive();
    } else {
      assertThat(caps.gpu()).isNull();
    }
    assertThat(caps.joinedAtEpochMs()).isPositive();

    DataPlaneEndpoint endpoint = new DataPlaneEndpoint("127.0.0.1", 40123, 32768, 1001);
    worker.setDataPlane(endpoint);
    worker.setWalletAddress("0x00000000000000000000000000000000000000aa");
    WorkerCapabilities updated =
        awaitEntry(c -> endpoint.equals(c.dataPlane()) && c.walletAddress() != null);
    assertThat(updated.cpuGflops()).isEqualTo(caps.cpuGflops());

    worker.close();
    worker = null;
    TestProbe<WorkerRegistry.Workers> probe = TestProbe.create(seed.system());
    probe.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          seed.registry().tell(new WorkerRegistry.GetWorkers(probe.ref()));
          assertThat(probe.receiveMessage(Duration.ofSeconds(1)).byId()).isEmpty();
          return null;
        });
  }

  @Test
  void cudaRequestedWithoutCudaFailsBeforeJoiningAndSaysWhy() {
    io.flotilla.engine.backend.cuda.CudaProbe.Result cuda =
        io.flotilla.engine.backend.cuda.CudaProbe.probeOnce();
    org.junit.jupiter.api.Assumptions.assumeFalse(cuda.available(), "a GPU is usable here");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                WorkerNode.start(
                    NodeConfig.overrides()
                        .roles(Set.of(NodeRole.WORKER))
                        .set("flotilla.worker.agent.backend", "cuda")
                        .over(GossipTesting.base())))
        .isInstanceOf(io.flotilla.gossip.NodeStartException.class)
        .hasMessage(
            "backend cuda requested but CUDA is not usable: "
                + cuda.reason()
                + " (use --backend cpu or auto)");
  }

  @Test
  void unknownBackendIsAConfigurationError() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                WorkerNode.start(
                    NodeConfig.overrides()
                        .roles(Set.of(NodeRole.WORKER))
                        .set("flotilla.worker.agent.backend", "rocm")
                        .over(GossipTesting.base())))
        .isInstanceOf(io.flotilla.gossip.NodeStartException.class)
        .hasMessage(
            "invalid worker configuration: flotilla.worker.agent.backend: unknown backend 'rocm';"
                + " allowed: cpu, cuda, auto");
  }

  @Test
  void agentMessagesRoundTrip() throws Exception {
    seed = FlotillaNode.start(GossipTesting.seed());
    TestProbe<WorkerAgent.CurrentCapabilities> probe = TestProbe.create(seed.system());
    List<Object> samples =
        List.of(
            new WorkerAgent.SetDataPlane(new DataPlaneEndpoint("10.0.0.1", 40000, 0, 1001)),
            new WorkerAgent.SetWalletAddress("0xabc"),
            new WorkerAgent.SetStageHost(
                TestProbe.<io.flotilla.protocol.task.StageHostCommand>create(seed.system()).ref()),
            new WorkerAgent.GetCapabilities(probe.ref()),
            new WorkerAgent.CurrentCapabilities(GossipTesting.capabilities("w", seed)));
    samples.forEach(s -> SerializationAssertions.assertRoundTrips(seed.system(), s));
    SerializationAssertions.assertEveryMessageHasSample(
        seed.system(),
        samples,
        c ->
            c.getPackageName().equals("io.flotilla.worker") && c.getName().contains("WorkerAgent"));
  }

  private WorkerCapabilities awaitEntry(java.util.function.Predicate<WorkerCapabilities> ok) {
    TestProbe<WorkerRegistry.Workers> probe = TestProbe.create(seed.system());
    return probe.awaitAssert(
        Duration.ofSeconds(20),
        Duration.ofMillis(100),
        () -> {
          seed.registry().tell(new WorkerRegistry.GetWorkers(probe.ref()));
          WorkerCapabilities c =
              probe.receiveMessage(Duration.ofSeconds(1)).byId().get(worker.workerId());
          assertThat(c).isNotNull().matches(ok);
          return c;
        });
  }
}
