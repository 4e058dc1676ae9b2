package io.flotilla.gossip.placement;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;

/** Gives the job managers of a node its one {@link PlacementBoard} and the board's last view. */
public final class PlacementBoardExtension implements Extension {

  /** The extension's id. */
  public static final ExtensionId<PlacementBoardExtension> ID =
      new ExtensionId<>() {
        @Override
        public PlacementBoardExtension createExtension(ActorSystem<?> system) {
          return new PlacementBoardExtension(system);
        }
      };

  private final AtomicReference<PlacementBoard.Loads> loads =
      new AtomicReference<>(PlacementBoard.Loads.NONE);
  private final ActorRef<PlacementBoard.Command> board;

  private PlacementBoardExtension(ActorSystem<?> system) {
    io.flotilla.gossip.SchedulerState state = io.flotilla.gossip.SchedulerState.get(system);
    this.board =
        system.systemActorOf(
            PlacementBoard.create(
                loads,
                state.requireReplicator("The placement board"),
                state.unexpectedAskTimeout()),
            "flotillaPlacementBoard",
            Props.empty());
  }

  /** The extension of {@code system}, started on first use. */
  public static PlacementBoardExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's board actor. */
  public ActorRef<PlacementBoard.Command> board() {
    return board;
  }

  /** The board as this node last saw it (an immutable snapshot, safe from any thread). */
  public PlacementBoard.Loads loads() {
    return loads.get();
  }
}
