package io.flotilla.gossip;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.ddata.ReplicatorSettings;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * The Distributed Data replicator of the state only scheduler nodes use: workers' reputation and
 * the placement board.
 *
 * <p>The node's default replicator spans every member, and every change of a key held there is
 * gossiped to all of them. That suits the worker registry (each volunteer writes its own entry),
 * but reputation changes with every verified step of every busy worker: replicated to a thousand
 * volunteer nodes it would cost every one of them the serialisation of a thousand workers'
 * counters, several times a second. This replicator runs only on nodes with the role {@code
 * flotilla.gossip.scheduler-state.role} ({@code scheduler} by default; empty keeps the state on
 * every node, in the default replicator), so that cost grows with the scheduler nodes. Nodes
 * without the role hold no replica ({@link #replicator()} is empty); their reputation actor asks a
 * scheduler node's.
 */
public final class SchedulerState implements Extension {

  /** The extension's id. */
  public static final ExtensionId<SchedulerState> ID =
      new ExtensionId<>() {
        @Override
        public SchedulerState createExtension(ActorSystem<?> system) {
          return new SchedulerState(system);
        }
      };

  private final String role;
  private final Optional<ActorRef<Replicator.Command>> replicator;
  private final Duration unexpectedAskTimeout;

  private SchedulerState(ActorSystem<?> system) {
    Config config = system.settings().config();
    this.role = config.getString("flotilla.gossip.scheduler-state.role").trim();
    this.unexpectedAskTimeout =
        config.getDuration(
            "pekko.cluster.ddata.typed.replicator-message-adapter-unexpected-ask-timeout");
    if (role.isEmpty()) {
      this.replicator = Optional.of(DistributedData.get(system).replicator());
    } else if (Cluster.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system))
        .selfRoles()
        .contains(role)) {
      ReplicatorSettings settings =
          ReplicatorSettings.apply(config.getConfig("pekko.cluster.distributed-data"))
              .withRole(role);
      // The same actor name on every node: replicators find their peers by path.
      this.replicator =
          Optional.of(
              system.systemActorOf(
                  Replicator.behavior(settings), "flotillaSchedulerReplicator", Props.empty()));
    } else {
      this.replicator = Optional.empty();
    }
  }

  /** The extension of {@code system}, started on first use. */
  public static SchedulerState get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The role whose nodes hold the state; empty when every node does. */
  public String role() {
    return role;
  }

  /** This node's replicator of the state, empty on nodes without {@link #role()}. */
  public Optional<ActorRef<Replicator.Command>> replicator() {
    return replicator;
  }

  /**
   * This node's replicator of the state.
   *
   * @throws IllegalStateException naming the role when this node does not hold the state
   */
  public ActorRef<Replicator.Command> requireReplicator(String what) {
    return replicator.orElseThrow(
        () ->
            new IllegalStateException(
                what
                    + " is kept by nodes with role '"
                    + role
                    + "' (flotilla.gossip.scheduler-state.role); this node does not have it"));
  }

  /** How long a replicator message adapter waits for answers nobody asked for to time out. */
  public Duration unexpectedAskTimeout() {
    return unexpectedAskTimeout;
  }
}
