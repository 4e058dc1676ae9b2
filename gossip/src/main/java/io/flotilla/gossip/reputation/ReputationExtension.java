package io.flotilla.gossip.reputation;

import java.time.Clock;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;

/**
 * Gives every part of a node the node's one reputation actor: a {@link ReputationRegistry} with a
 * replica on scheduler nodes, a proxy to one of theirs elsewhere.
 */
public final class ReputationExtension implements Extension {

  /** The extension's id. */
  public static final ExtensionId<ReputationExtension> ID =
      new ExtensionId<>() {
        @Override
        public ReputationExtension createExtension(ActorSystem<?> system) {
          return new ReputationExtension(system);
        }
      };

  private final ActorRef<ReputationRegistry.Command> registry;

  private ReputationExtension(ActorSystem<?> system) {
    ReputationSettings settings = ReputationSettings.create(system.settings().config());
    io.flotilla.gossip.SchedulerState state = io.flotilla.gossip.SchedulerState.get(system);
    this.registry =
        system.systemActorOf(
            state
                .replicator()
                .map(
                    r ->
                        ReputationRegistry.create(
                            settings, Clock.systemUTC(), r, state.unexpectedAskTimeout()))
                .orElseGet(ReputationRegistry::proxy),
            "flotillaReputation",
            Props.empty());
  }

  /** The extension of {@code system}, started on first use. */
  public static ReputationExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's reputation actor. */
  public ActorRef<ReputationRegistry.Command> registry() {
    return registry;
  }
}
