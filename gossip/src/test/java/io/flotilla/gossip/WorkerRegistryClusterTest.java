package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A scheduler node holding the registry replica and worker nodes whose proxies write to it, in one
 * JVM on loopback.
 */
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

  /** A worker node joining through {@code seed}, once both are Up. */
  private FlotillaNode startWorker(FlotillaNode seed) throws InterruptedException {
    FlotillaNode worker = start(GossipTesting.joining(NodeRole.WORKER, seed.port(), 0));
    assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
    assertThat(worker.awaitUp(Duration.ofSeconds(20))).isTrue();
    return worker;
  }

  @Test
  void registryConvergesDropsACrashedWorkerAndTakesBackItsRestart() throws Exception {
    FlotillaNode seed = start(GossipTesting.schedulerSeed());
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
    FlotillaNode seed = start(GossipTesting.schedulerSeed());
    FlotillaNode w1 = startWorker(seed);
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
  void onlyNodesThatKeepTheSchedulerStateHoldAReplica() throws Exception {
    FlotillaNode seed = start(GossipTesting.schedulerSeed());
    FlotillaNode w1 = startWorker(seed);
    assertThat(SchedulerState.get(seed.system()).replicator()).isPresent();
    assertThat(SchedulerState.get(w1.system()).replicator()).isEmpty();
    register(w1, "w1");
    awaitWorkers(seed, Set.of("w1"), Duration.ofSeconds(10));
    // The worker node's replicator holds no registry key: nothing was replicated there.
    TestProbe<Replicator.GetResponse<LWWMap<String, WorkerCapabilities>>> read =
        TestProbe.create(w1.system());
    DistributedData.get(w1.system())
        .replicator()
        .tell(
            new Replicator.Get<>(
                WorkerRegistry.keyOf(
                    "w1", GossipSettings.create(w1.system().settings().config()).registryShards()),
                Replicator.readLocal(),
                read.ref()));
    assertThat(read.receiveMessage(Duration.ofSeconds(5))).isInstanceOf(Replicator.NotFound.class);
  }

  @Test
  void aStageHostMustLiveOnTheWorkersOwnNode() throws Exception {
    FlotillaNode seed = start(GossipTesting.schedulerSeed());
    FlotillaNode w1 = startWorker(seed);
    TestProbe<StageHostCommand> own = TestProbe.create(w1.system());
    TestProbe<StageHostCommand> elsewhere = TestProbe.create(seed.system());

    GossipTesting.register(w1, GossipTesting.capabilities("w1", w1).withStageHost(own.ref()));
    awaitWorkers(seed, Set.of("w1"), Duration.ofSeconds(10));
    ActorRef<StageHostCommand> listed = workers(seed).byId().get("w1").stageHost();
    assertThat(listed.path().name()).isEqualTo(own.ref().path().name());
    assertThat(listed.path().address()).isEqualTo(w1.address());

    // An entry of a worker on w1 whose stage host is an actor on the scheduler node.
    TestProbe<StatusReply<Done>> ack = TestProbe.create(seed.system());
    seed.registry()
        .tell(
            new WorkerRegistry.Register(
                GossipTesting.capabilities("w2", w1).withStageHost(elsewhere.ref()), ack.ref()));
    assertThat(ack.receiveMessage(Duration.ofSeconds(5)).getError())
        .hasMessageContaining("the stage host")
        .hasMessageContaining("of worker w2 is not on the worker's node " + w1.address());
    assertThat(workers(seed).byId()).doesNotContainKey("w2");
  }

  @Test
  void aWorkerNodeReadsAndFollowsARegistryLargerThanOneMessage() throws Exception {
    FlotillaNode seed = start(GossipTesting.schedulerSeed());
    FlotillaNode w1 = startWorker(seed);
    TestProbe<WorkerRegistry.Workers> subscriber = TestProbe.create(w1.system());
    w1.registry().tell(new WorkerRegistry.SubscribeWorkers(subscriber.ref()));

    // More entries than a page, and more bytes than one control message may carry.
    int n = 4 * WorkerRegistry.MAX_PAGE + 17;
    TestProbe<StatusReply<Done>> ack = TestProbe.create(seed.system());
    Set<String> ids = new java.util.TreeSet<>();
    for (int i = 0; i < n; i++) {
      String id = String.format("bulk-%04d", i);
      ids.add(id);
      seed.registry()
          .tell(
              new WorkerRegistry.Register(
                  GossipTesting.capabilities(id, seed)
                      .withWalletAddress("0x" + "ab".repeat(20))
                      .withDataPlane(
                          new io.flotilla.protocol.worker.DataPlaneEndpoint(
                              "10.1.2.3", 40000 + i % 1000, 32768, 1001)),
                  ack.ref()));
    }
    for (int i = 0; i < n; i++) {
      assertThat(ack.receiveMessage(Duration.ofSeconds(5)).isSuccess()).isTrue();
    }
    awaitWorkers(w1, ids, Duration.ofSeconds(15));
    subscriber.fishForMessage(
        Duration.ofSeconds(15),
        w ->
            w.byId().keySet().equals(ids)
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
  }

  @Test
  void registrationsReachASchedulerNodeThatJoinsLaterAndOneThatRestarts() throws Exception {
    FlotillaNode seed = start(GossipTesting.seed());
    FlotillaNode w1 = start(GossipTesting.joining(NodeRole.WORKER, seed.port(), 0));
    assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
    assertThat(w1.awaitUp(Duration.ofSeconds(20))).isTrue();
    TestProbe<StatusReply<Done>> probe = TestProbe.create(w1.system());
    w1.registry()
        .tell(new WorkerRegistry.Register(GossipTesting.capabilities("early", w1), probe.ref()));
    assertThat(probe.receiveMessage(Duration.ofSeconds(5)).getError())
        .hasMessageContaining("no node that keeps the worker registry")
        .hasMessageContaining("kept and sent when one joins");
    assertThat(workers(w1).byId()).isEmpty();

    FlotillaNode scheduler = start(GossipTesting.crashable(NodeRole.SCHEDULER, seed.port(), 0));
    assertThat(scheduler.awaitUp(Duration.ofSeconds(20))).isTrue();
    awaitWorkers(scheduler, Set.of("early"), Duration.ofSeconds(10));
    awaitWorkers(w1, Set.of("early"), Duration.ofSeconds(10));

    // A scheduler node that crashes and starts afresh has an empty replica: the proxies fill it.
    scheduler.crash();
    nodes.remove(scheduler);
    FlotillaNode restarted = start(GossipTesting.joining(NodeRole.SCHEDULER, seed.port(), 0));
    assertThat(restarted.awaitUp(Duration.ofSeconds(30))).isTrue();
    awaitWorkers(restarted, Set.of("early"), Duration.ofSeconds(10));
  }

  @Test
  void subscribersSeeEveryChange() throws Exception {
    FlotillaNode seed = start(GossipTesting.schedulerSeed());
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
    GossipTesting.register(node, GossipTesting.capabilities(workerId, node));
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
