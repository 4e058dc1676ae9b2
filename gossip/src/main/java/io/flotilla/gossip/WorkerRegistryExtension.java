package io.flotilla.gossip;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;

/**
 * Gives every part of a node (worker agent, scheduler, HTTP routes) the node's one {@link
 * WorkerRegistry} actor: a replica on nodes that keep the scheduler state ({@link SchedulerState}),
 * a proxy to the replicas elsewhere.
 */
public final class WorkerRegistryExtension implements Extension {

  /** The extension's id. */
  public static final ExtensionId<WorkerRegistryExtension> ID =
      new ExtensionId<>() {
        @Override
        public WorkerRegistryExtension createExtension(ActorSystem<?> system) {
          return new WorkerRegistryExtension(system);
        }
      };

  private final ActorRef<WorkerRegistry.Command> registry;

  private WorkerRegistryExtension(ActorSystem<?> system) {
    GossipSettings settings = GossipSettings.create(system.settings().config());
    SchedulerState state = SchedulerState.get(system);
    this.registry =
        system.systemActorOf(
            state
                .replicator()
                .map(r -> WorkerRegistry.create(settings, r, state.unexpectedAskTimeout()))
                .orElseGet(WorkerRegistry::proxy),
            "flotillaWorkerRegistry",
            Props.empty());
  }

  /** The extension of {@code system}, started on first use. */
  public static WorkerRegistryExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's registry actor: its replica, or its proxy to the replicas. */
  public ActorRef<WorkerRegistry.Command> registry() {
    return registry;
  }
}
