package io.flotilla.gossip.reputation;

import java.time.Clock;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;

/** Gives every part of a node the node's one {@link ReputationRegistry} actor. */
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
    this.registry =
        system.systemActorOf(
            ReputationRegistry.create(settings, Clock.systemUTC()),
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
