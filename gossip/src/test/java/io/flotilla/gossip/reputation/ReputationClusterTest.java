package io.flotilla.gossip.reputation;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.protocol.NodeRole;
import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two scheduler nodes of one cluster (ActorSystems in one JVM on loopback) that record results of
 * the same workers, and a worker node that holds no replica and reaches theirs through its proxy.
 * Each test uses its own worker ids.
 */
@ExtendWith(LogCapturingExtension.class)
class ReputationClusterTest {

  private static final Duration CONVERGE = Duration.ofSeconds(10);
  private static FlotillaNode a;
  private static FlotillaNode b;
  private static FlotillaNode volunteer;

  @BeforeAll
  static void startCluster() throws Exception {
    a = FlotillaNode.start(GossipTesting.schedulerSeed());
    b = FlotillaNode.start(GossipTesting.joining(NodeRole.SCHEDULER, a.port(), 0));
    volunteer = FlotillaNode.start(GossipTesting.joining(NodeRole.WORKER, a.port(), 0));
    for (FlotillaNode node : new FlotillaNode[] {a, b, volunteer}) {
      assertThat(node.awaitUp(Duration.ofSeconds(20))).isTrue();
    }
  }

  @AfterAll
  static void stopCluster() {
    volunteer.close();
    b.close();
    a.close();
  }

  @Test
  void onlySchedulerNodesHoldAReplicaAndOthersAskThem() {
    assertThat(io.flotilla.gossip.SchedulerState.get(a.system()).replicator()).isPresent();
    assertThat(io.flotilla.gossip.SchedulerState.get(b.system()).replicator()).isPresent();
    assertThat(io.flotilla.gossip.SchedulerState.get(volunteer.system()).replicator()).isEmpty();
    // Written and read through the worker node's proxy, recorded in the scheduler nodes' replica.
    ack(volunteer, r -> new ReputationRegistry.RecordValid("proxied-1", r));
    ack(volunteer, r -> new ReputationRegistry.RecordInvalid("proxied-1", "noise", r));
    for (FlotillaNode node : new FlotillaNode[] {a, b, volunteer}) {
      awaitReputation(
          node,
          "proxied-1",
          rep -> {
            assertThat(rep.validResults()).isEqualTo(1);
            assertThat(rep.invalidResults()).isEqualTo(1);
          });
    }
    TestProbe<ReputationRegistry.Reputations> all = TestProbe.create(volunteer.system());
    volunteer.reputation().tell(new ReputationRegistry.GetReputations(all.ref()));
    assertThat(all.receiveMessage(Duration.ofSeconds(5)).byId()).containsKey("proxied-1");
  }

  @Test
  void countsRecordedConcurrentlyOnTwoNodesAreAllKept() {
    // Interleaved, without waiting for replication in between: no count may be lost.
    for (int i = 0; i < 20; i++) {
      a.reputation().tell(new ReputationRegistry.RecordValid("conc-1", null));
      b.reputation().tell(new ReputationRegistry.RecordValid("conc-1", null));
      b.reputation().tell(new ReputationRegistry.RecordUnverified("conc-1", null));
    }
    ack(b, r -> new ReputationRegistry.RecordValid("conc-1", r));
    for (FlotillaNode node : new FlotillaNode[] {a, b}) {
      awaitReputation(
          node,
          "conc-1",
          rep -> {
            assertThat(rep.validResults()).isEqualTo(41);
            assertThat(rep.consecutiveValid()).isEqualTo(41);
            assertThat(rep.tasksDone()).isEqualTo(61);
            assertThat(rep.invalidResults()).isZero();
            assertThat(rep.quarantined()).isFalse();
          });
    }
  }

  @Test
  void oneInvalidResultResetsConsecutiveValidResultsEverywhere() {
    for (int i = 0; i < 5; i++) {
      ack(a, r -> new ReputationRegistry.RecordValid("reset-1", r));
    }
    awaitReputation(b, "reset-1", rep -> assertThat(rep.consecutiveValid()).isEqualTo(5));
    ack(b, r -> new ReputationRegistry.RecordInvalid("reset-1", "digest mismatch", r));
    awaitReputation(
        a,
        "reset-1",
        rep -> {
          assertThat(rep.consecutiveValid()).isZero();
          assertThat(rep.validResults()).isEqualTo(5);
          assertThat(rep.invalidResults()).isEqualTo(1);
          assertThat(rep.tasksDone()).isEqualTo(6);
        });
    ack(a, r -> new ReputationRegistry.RecordValid("reset-1", r));
    ack(a, r -> new ReputationRegistry.RecordValid("reset-1", r));
    awaitReputation(b, "reset-1", rep -> assertThat(rep.consecutiveValid()).isEqualTo(2));
  }

  @Test
  void aBurstOfResultsIsCountedInOrder() {
    // Told at once, without waiting: the valid results are written in batches, and the invalid
    // one in the middle must still end the run of those before it.
    for (int i = 0; i < 30; i++) {
      a.reputation().tell(new ReputationRegistry.RecordValid("burst-1", null));
    }
    a.reputation().tell(new ReputationRegistry.RecordInvalid("burst-1", "digest mismatch", null));
    for (int i = 0; i < 2; i++) {
      a.reputation().tell(new ReputationRegistry.RecordValid("burst-1", null));
    }
    ack(a, r -> new ReputationRegistry.RecordValid("burst-1", r));
    awaitReputation(
        b,
        "burst-1",
        rep -> {
          assertThat(rep.validResults()).isEqualTo(33);
          assertThat(rep.invalidResults()).isEqualTo(1);
          assertThat(rep.consecutiveValid()).isEqualTo(3);
          assertThat(rep.tasksDone()).isEqualTo(34);
        });
  }

  @Test
  void invalidResultsSplitOverTwoNodesReachTheThresholdAndQuarantineClusterWide() {
    int threshold =
        ReputationSettings.create(a.system().settings().config()).quarantineAfterInvalid();
    assertThat(threshold).isEqualTo(3);
    // Neither node alone records enough to cross the threshold.
    ack(a, r -> new ReputationRegistry.RecordInvalid("cheat-1", "noise", r));
    ack(a, r -> new ReputationRegistry.RecordInvalid("cheat-1", "noise", r));
    awaitReputation(b, "cheat-1", rep -> assertThat(rep.invalidResults()).isEqualTo(2));
    assertThat(get(b, "cheat-1").quarantined()).isFalse();

    TestProbe<ReputationRegistry.Reputations> subscriber = TestProbe.create(a.system());
    a.reputation().tell(new ReputationRegistry.SubscribeReputations(subscriber.ref()));
    ack(b, r -> new ReputationRegistry.RecordInvalid("cheat-1", "flipped signs", r));
    subscriber.fishForMessage(
        CONVERGE,
        reps ->
            reps.quarantined().stream().anyMatch(w -> w.workerId().equals("cheat-1"))
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
    for (FlotillaNode node : new FlotillaNode[] {a, b}) {
      awaitReputation(
          node,
          "cheat-1",
          rep -> {
            assertThat(rep.quarantined()).isTrue();
            assertThat(rep.quarantineReason()).contains("3 invalid results (threshold 3)");
            assertThat(rep.quarantinedAtEpochMs()).isPositive();
          });
    }
    a.reputation().tell(new ReputationRegistry.UnsubscribeReputations(subscriber.ref()));
  }

  @Test
  void anOperatorReleasesAQuarantinedWorkerAndOnlyLaterInvalidResultsCount() {
    ack(a, r -> new ReputationRegistry.Quarantine("released-1", "caught by hand", r));
    awaitReputation(b, "released-1", rep -> assertThat(rep.quarantined()).isTrue());
    for (int i = 0; i < 3; i++) {
      ack(b, r -> new ReputationRegistry.RecordInvalid("released-1", "zeros", r));
    }
    awaitReputation(a, "released-1", rep -> assertThat(rep.invalidResults()).isEqualTo(3));

    ack(b, r -> new ReputationRegistry.Unquarantine("released-1", "hardware fixed", r));
    for (FlotillaNode node : new FlotillaNode[] {a, b}) {
      awaitReputation(
          node,
          "released-1",
          rep -> {
            assertThat(rep.quarantined()).isFalse();
            assertThat(rep.quarantineReason()).isEqualTo("hardware fixed");
          });
    }
    // Two more invalid results stay below the threshold of 3 new ones; the third quarantines.
    ack(a, r -> new ReputationRegistry.RecordInvalid("released-1", "zeros", r));
    ack(a, r -> new ReputationRegistry.RecordInvalid("released-1", "zeros", r));
    awaitReputation(b, "released-1", rep -> assertThat(rep.invalidResults()).isEqualTo(5));
    assertThat(get(a, "released-1").quarantined()).isFalse();
    ack(a, r -> new ReputationRegistry.RecordInvalid("released-1", "zeros", r));
    awaitReputation(b, "released-1", rep -> assertThat(rep.quarantined()).isTrue());
  }

  @Test
  void releasingAWorkerThatIsNotQuarantinedIsAnError() {
    TestProbe<StatusReply<Done>> probe = TestProbe.create(a.system());
    a.reputation().tell(new ReputationRegistry.Unquarantine("honest-1", "why not", probe.ref()));
    StatusReply<Done> reply = probe.receiveMessage(Duration.ofSeconds(5));
    assertThat(reply.isError()).isTrue();
    assertThat(reply.getError().getMessage()).contains("honest-1 is not quarantined");
    assertThat(get(a, "honest-1")).isEqualTo(WorkerReputation.unknown("honest-1"));
  }

  private static void ack(
      FlotillaNode node,
      Function<ActorRef<StatusReply<Done>>, ReputationRegistry.Command> command) {
    TestProbe<StatusReply<Done>> probe = TestProbe.create(node.system());
    node.reputation().tell(command.apply(probe.ref()));
    StatusReply<Done> reply = probe.receiveMessage(Duration.ofSeconds(5));
    assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
  }

  private static WorkerReputation get(FlotillaNode node, String workerId) {
    TestProbe<WorkerReputation> probe = TestProbe.create(node.system());
    node.reputation().tell(new ReputationRegistry.GetReputation(workerId, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(3));
  }

  private static void awaitReputation(
      FlotillaNode node, String workerId, java.util.function.Consumer<WorkerReputation> assertion) {
    TestProbe<WorkerReputation> probe = TestProbe.create(node.system());
    probe.awaitAssert(
        CONVERGE,
        Duration.ofMillis(100),
        () -> {
          assertion.accept(get(node, workerId));
          return null;
        });
  }
}
