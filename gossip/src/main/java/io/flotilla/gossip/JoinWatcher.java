package io.flotilla.gossip;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Warns periodically, naming the seeds, while this node has not joined the cluster, and says so
 * once it is Up. Pekko keeps retrying the join meanwhile; this makes the wait visible.
 */
final class JoinWatcher extends AbstractBehavior<JoinWatcher.Command> {

  sealed interface Command extends NoSerializationVerificationNeeded {}

  private record Joined(SelfUp up) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  static Behavior<Command> create(List<SeedAddress> seeds, Duration interval) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new JoinWatcher(ctx, timers, seeds, interval)));
  }

  private final String seedList;
  private final long startedNanos = System.nanoTime();

  private JoinWatcher(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      List<SeedAddress> seeds,
      Duration interval) {
    super(ctx);
    this.seedList =
        seeds.isEmpty()
            ? "itself (new cluster)"
            : seeds.stream().map(SeedAddress::toString).collect(Collectors.joining(", "));
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(Subscribe.create(ctx.messageAdapter(SelfUp.class, Joined::new), SelfUp.class));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Joined.class, this::onJoined)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .build();
  }

  private Behavior<Command> onJoined(Joined msg) {
    getContext()
        .getLog()
        .info(
            "Joined the Flotilla cluster as {} after {} ms",
            Cluster.get(getContext().getSystem()).selfMember().address(),
            Duration.ofNanos(System.nanoTime() - startedNanos).toMillis());
    return Behaviors.stopped();
  }

  private Behavior<Command> onTick() {
    getContext()
        .getLog()
        .warn(
            "Not joined the Flotilla cluster yet after {} s; trying seed nodes: {}. Check that a"
                + " seed runs there and that this host can reach it (firewall, --host). Retrying.",
            Duration.ofNanos(System.nanoTime() - startedNanos).toSeconds(),
            seedList);
    return this;
  }
}
