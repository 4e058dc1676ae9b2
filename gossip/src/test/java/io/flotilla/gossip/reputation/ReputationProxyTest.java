package io.flotilla.gossip.reputation;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.SchedulerState;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A cluster without a scheduler node keeps no reputation, and its nodes say so at once. */
@ExtendWith(LogCapturingExtension.class)
class ReputationProxyTest {

  @Test
  void withoutASchedulerNodeReadsAreEmptyAndWritesAreRefusedByName() throws Exception {
    try (FlotillaNode seed = FlotillaNode.start(GossipTesting.seed())) {
      assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
      assertThat(SchedulerState.get(seed.system()).replicator()).isEmpty();

      TestProbe<ReputationRegistry.Reputations> all = TestProbe.create(seed.system());
      seed.reputation().tell(new ReputationRegistry.GetReputations(all.ref()));
      assertThat(all.receiveMessage(Duration.ofSeconds(5)).byId()).isEmpty();

      TestProbe<WorkerReputation> one = TestProbe.create(seed.system());
      seed.reputation().tell(new ReputationRegistry.GetReputation("w-1", one.ref()));
      assertThat(one.receiveMessage(Duration.ofSeconds(5)))
          .isEqualTo(WorkerReputation.unknown("w-1"));

      TestProbe<StatusReply<Done>> ack = TestProbe.create(seed.system());
      seed.reputation().tell(new ReputationRegistry.Quarantine("w-1", "operator test", ack.ref()));
      StatusReply<Done> reply = ack.receiveMessage(Duration.ofSeconds(5));
      assertThat(reply.isError()).isTrue();
      assertThat(reply.getError().getMessage())
          .contains("no node that keeps workers' reputation")
          .contains("flotilla.gossip.scheduler-state.role");
    }
  }
}
