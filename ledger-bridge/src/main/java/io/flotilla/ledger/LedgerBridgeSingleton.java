package io.flotilla.ledger;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Runs the {@link LedgerBridge} as a cluster singleton on the nodes with role {@code
 * flotilla.ledger.singleton-role} ({@code ledger} by default). Exactly one bridge settles at a
 * time, so batch ids and balances have one writer.
 */
public final class LedgerBridgeSingleton {

  /** Name of the singleton actor. */
  public static final String NAME = "ledger-bridge";

  private LedgerBridgeSingleton() {}

  /**
   * Starts (or joins) the singleton on {@code system} with the ledger from its configuration;
   * returns the proxy every node sends to.
   */
  public static ActorRef<LedgerBridge.Command> init(ActorSystem<?> system) {
    LedgerSettings settings = LedgerSettings.create(system.settings().config());
    return init(system, settings, SettlementHook.NONE);
  }

  /** As {@link #init(ActorSystem)} with explicit settings and hook. */
  public static ActorRef<LedgerBridge.Command> init(
      ActorSystem<?> system, LedgerSettings settings, SettlementHook hook) {
    Behavior<LedgerBridge.Command> bridge =
        org.apache.pekko.actor.typed.javadsl.Behaviors.supervise(
                LedgerBridge.create(settings, () -> settings.openLedger(hook)))
            .onFailure(
                SupervisorStrategy.restartWithBackoff(
                    java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(30), 0.2));
    return ClusterSingleton.get(system)
        .init(
            SingletonActor.of(bridge, NAME)
                .withSettings(
                    ClusterSingletonSettings.create(system).withRole(settings.singletonRole())));
  }
}
