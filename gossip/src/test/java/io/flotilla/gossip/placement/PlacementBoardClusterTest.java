package io.flotilla.gossip.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.protocol.NodeRole;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two nodes on loopback: what the job managers of one hold and free on its placement board, the
 * other node's board shows, counted per worker.
 */
@ExtendWith(LogCapturingExtension.class)
class PlacementBoardClusterTest {

  @Test
  void holdsAndFreesSpreadToEveryNode() throws Exception {
    try (FlotillaNode seed = FlotillaNode.start(GossipTesting.schedulerSeed());
        FlotillaNode other =
            FlotillaNode.start(GossipTesting.joining(NodeRole.SCHEDULER, seed.port(), 0))) {
      assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
      assertThat(other.awaitUp(Duration.ofSeconds(20))).isTrue();
      PlacementBoardExtension here = PlacementBoardExtension.get(seed.system());
      PlacementBoardExtension there = PlacementBoardExtension.get(other.system());
      TestProbe<Object> probe = TestProbe.create(seed.system());

      here.board().tell(new PlacementBoard.Hold("j-1", List.of("w1", "w2")));
      there.board().tell(new PlacementBoard.Hold("j-2", List.of("w2", "w3")));
      for (PlacementBoardExtension board : List.of(here, there)) {
        probe.awaitAssert(
            Duration.ofSeconds(15),
            () -> {
              assertThat(board.loads().jobsByWorker())
                  .containsOnlyKeys("w1", "w2", "w3")
                  .containsEntry("w1", List.of("j-1"));
              assertThat(board.loads().jobsByWorker().get("w2"))
                  .containsExactlyInAnyOrder("j-1", "j-2");
              return null;
            });
      }
      PlacementBoard.Loads loads = there.loads();
      assertThat(loads.otherJobs("w2", "j-1")).as("w2 for j-1: j-2 uses it").isEqualTo(1);
      assertThat(loads.otherJobs("w1", "j-1")).as("w1 for j-1: only itself").isZero();
      assertThat(loads.otherJobs("w9", "j-1")).as("a worker in no plan").isZero();

      there.board().tell(new PlacementBoard.Free("j-1")); // freed by another node than its holder
      probe.awaitAssert(
          Duration.ofSeconds(15),
          () -> {
            assertThat(here.loads().jobsByWorker())
                .isEqualTo(Map.of("w2", List.of("j-2"), "w3", List.of("j-2")));
            return null;
          });
    }
  }
}
