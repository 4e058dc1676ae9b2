package io.flotilla.gossip;

import io.flotilla.gossip.reputation.QuarantineStatus;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.testing.SerializationAssertions;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every gossip control message survives the wire. */
@ExtendWith(LogCapturingExtension.class)
class GossipSerializationTest {

  private static final ActorTestKit kit =
      ActorTestKit.create(
          com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local")
              .withFallback(GossipTesting.base())
              .withFallback(com.typesafe.config.ConfigFactory.defaultReference())
              .resolve());

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void everyGossipMessageRoundTrips() {
    TestProbe<StatusReply<org.apache.pekko.Done>> acks = kit.createTestProbe();
    TestProbe<WorkerRegistry.Workers> workers = kit.createTestProbe();
    WorkerCapabilities caps =
        new WorkerCapabilities(
            "w1",
            "pekko://flotilla@127.0.0.1:2553",
            8,
            1L << 33,
            null,
            42.0,
            "cpu",
            null,
            null,
            Map.of("region", "eu"),
            1_700_000_000_000L);
    TestProbe<WorkerReputation> reputation = kit.createTestProbe();
    TestProbe<ReputationRegistry.Reputations> reputations = kit.createTestProbe();
    WorkerReputation rep =
        new WorkerReputation("w1", 3, 10, 3, 14, true, "3 invalid results", 1_700_000_000_000L);
    TestProbe<io.flotilla.protocol.task.StageHostCommand> host = kit.createTestProbe();
    TestProbe<WorkerRegistry.WorkersPage> pages = kit.createTestProbe();
    TestProbe<WorkerRegistry.WorkersChanged> changes = kit.createTestProbe();
    List<Object> samples =
        List.of(
            new WorkerRegistry.Register(caps, acks.ref()),
            new WorkerRegistry.Register(caps.withStageHost(host.ref()), acks.ref()),
            new WorkerRegistry.Unregister("w1", acks.ref()),
            new WorkerRegistry.GetWorkers(workers.ref()),
            new WorkerRegistry.SubscribeWorkers(workers.ref()),
            new WorkerRegistry.UnsubscribeWorkers(workers.ref()),
            new WorkerRegistry.Workers(Map.of("w1", caps)),
            new WorkerRegistry.GetWorkersPage("w0", WorkerRegistry.MAX_PAGE, pages.ref()),
            new WorkerRegistry.WorkersPage(List.of(caps), true),
            new WorkerRegistry.WatchWorkers(changes.ref()),
            new WorkerRegistry.WorkersChanged(1),
            rep,
            new QuarantineStatus(true, "3 invalid results (threshold 3)", 1_700_000_000_000L, 0),
            new ReputationRegistry.RecordValid("w1", acks.ref()),
            new ReputationRegistry.RecordValid("w1", null),
            new ReputationRegistry.RecordInvalid("w1", "digest mismatch", acks.ref()),
            new ReputationRegistry.RecordUnverified("w1", acks.ref()),
            new ReputationRegistry.Quarantine("w1", "by hand", acks.ref()),
            new ReputationRegistry.Unquarantine("w1", "fixed", acks.ref()),
            new ReputationRegistry.GetReputation("w1", reputation.ref()),
            new ReputationRegistry.GetReputations(reputations.ref()),
            new ReputationRegistry.SubscribeReputations(reputations.ref()),
            new ReputationRegistry.UnsubscribeReputations(reputations.ref()),
            new ReputationRegistry.Reputations(Map.of("w1", rep)),
            new io.flotilla.gossip.placement.PlacementBoard.JobPlacement(List.of("w1", "w2")),
            new io.flotilla.gossip.placement.PlacementBoard.Hold("j-1", List.of("w1", "w2")),
            new io.flotilla.gossip.placement.PlacementBoard.Free("j-1"));
    samples.forEach(s -> SerializationAssertions.assertRoundTrips(kit.system(), s));
    SerializationAssertions.assertEveryMessageHasSample(
        kit.system(), samples, c -> c.getPackageName().startsWith("io.flotilla.gossip"));
  }
}
