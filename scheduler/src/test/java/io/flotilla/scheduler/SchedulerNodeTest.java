package io.flotilla.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.job.JobSettings;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A scheduler joins with its role and sees workers registered on other nodes. */
@ExtendWith(LogCapturingExtension.class)
class SchedulerNodeTest {

  private FlotillaNode seed;
  private SchedulerNode scheduler;

  @AfterEach
  void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
    if (seed != null) {
      seed.close();
    }
  }

  @Test
  void joinsWithTheSchedulerRoleAndFollowsTheRegistry() throws Exception {
    seed = FlotillaNode.start(GossipTesting.seed());
    scheduler =
        SchedulerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SCHEDULER))
                .seeds(List.of(new SeedAddress("127.0.0.1", seed.port())))
                .over(GossipTesting.base()));
    assertThat(scheduler.node().awaitUp(Duration.ofSeconds(20))).isTrue();
    assertThat(Cluster.get(scheduler.node().system()).selfMember().getRoles())
        .contains("scheduler");

    // The seed holds no replica: its proxy writes the entry to the scheduler node's.
    GossipTesting.register(seed, GossipTesting.capabilities("w-on-seed", seed));

    TestProbe<WorkerRegistry.Workers> probe = TestProbe.create(scheduler.node().system());
    probe.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          scheduler.directory().tell(new WorkerDirectory.GetAvailable(probe.ref()));
          assertThat(probe.receiveMessage(Duration.ofSeconds(1)).byId()).containsKey("w-on-seed");
          return null;
        });
  }

  @Test
  void theEmbeddedJournalKeepsFewPagesInMemory() {
    Config config =
        SchedulerNode.withJobJournal(
            ConfigFactory.parseString(
                    "flotilla.scheduler.persistence { h2-directory = \"/data/j\", "
                        + "h2-cache-size = 2MiB, h2-write-delay = 20ms }")
                .withFallback(ConfigFactory.load()));
    assertThat(config.getString(JobSettings.SHARED_DATABASE + ".db.url"))
        .isEqualTo("jdbc:h2:file:/data/j/journal;CACHE_SIZE=2048;WRITE_DELAY=20");
    // The defaults: a 1 MiB cache, pages written within 50 ms.
    assertThat(
            SchedulerNode.h2Settings(
                ConfigFactory.load().getConfig("flotilla.scheduler.persistence")))
        .isEqualTo(";CACHE_SIZE=1024;WRITE_DELAY=50");
  }

  @Test
  void aNodeWithoutTheSchedulerRoleIsRefused() {
    seed = FlotillaNode.start(GossipTesting.seed());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                SchedulerNode.start(
                    NodeConfig.overrides()
                        .roles(Set.of(NodeRole.WORKER))
                        .seeds(List.of(new SeedAddress("127.0.0.1", seed.port())))
                        .over(GossipTesting.base())))
        .hasMessageContaining("scheduler role");
  }
}
