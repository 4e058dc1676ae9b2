package io.flotilla.scheduler.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A seed-and-scheduler node on an H2 journal in a test's directory, without the jobs API, for tests
 * that stop it and start another on the same journal. Register it with {@code @RegisterExtension}:
 * the node running when a test ends is closed.
 */
final class JournaledScheduler implements AfterEachCallback {

  private Path dataDir;
  private SchedulerNode node;

  /** Starts the node on the journal in {@code dataDir}; returns once it is up. */
  SchedulerNode start(Path dataDir) throws InterruptedException {
    this.dataDir = dataDir;
    node =
        SchedulerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .set("flotilla.scheduler.persistence.h2-directory", dataDir.toString())
                .set("flotilla.scheduler.http.enabled", false)
                .over(GossipTesting.base()));
    assertThat(node.node().awaitUp(Duration.ofSeconds(20))).as("scheduler node up").isTrue();
    return node;
  }

  /** Closes the node and starts a new one on the same journal. */
  SchedulerNode restart() throws InterruptedException {
    node.close();
    node = null;
    return start(dataDir);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (node != null) {
      node.close();
      node = null;
    }
  }
}
