package io.flotilla.scheduler;

import com.typesafe.config.Config;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeStartException;
import io.flotilla.protocol.NodeRole;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;

/** A running scheduler node: a {@link FlotillaNode} with the scheduler role and its directory. */
public final class SchedulerNode implements AutoCloseable {

  private final FlotillaNode node;
  private final ActorRef<WorkerDirectory.Command> directory;

  private SchedulerNode(FlotillaNode node, ActorRef<WorkerDirectory.Command> directory) {
    this.node = node;
    this.directory = directory;
  }

  /**
   * Starts a scheduler node from a resolved config whose roles include {@code scheduler}.
   *
   * @throws NodeStartException when the node cannot start, saying why
   */
  public static SchedulerNode start(Config config) {
    FlotillaNode node = FlotillaNode.start(config);
    if (!node.settings().roles().contains(NodeRole.SCHEDULER)) {
      node.close();
      throw new NodeStartException(
          "a scheduler node needs the scheduler role in flotilla.gossip.roles");
    }
    ActorRef<WorkerDirectory.Command> directory =
        node.system()
            .systemActorOf(
                WorkerDirectory.create(
                    node.registry(),
                    config.getDuration("flotilla.scheduler.workers-summary-interval")),
                "flotillaWorkerDirectory",
                Props.empty());
    return new SchedulerNode(node, directory);
  }

  /** The underlying cluster node. */
  public FlotillaNode node() {
    return node;
  }

  /** The scheduler's view of the available workers. */
  public ActorRef<WorkerDirectory.Command> directory() {
    return directory;
  }

  /** Leaves the cluster and stops. */
  @Override
  public void close() {
    node.close();
  }
}
