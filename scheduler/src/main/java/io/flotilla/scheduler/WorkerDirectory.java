package io.flotilla.scheduler;

import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The scheduler's view of the workers it can place stages on, followed from the worker registry.
 * Logs workers that arrive and leave, and a periodic summary of the capacity on offer. The planner
 * reads it through {@link GetAvailable}.
 */
public final class WorkerDirectory extends AbstractBehavior<WorkerDirectory.Command> {

  /** Messages the directory understands (local to the scheduler node). */
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  /** Asks for the workers currently available. */
  public record GetAvailable(ActorRef<WorkerRegistry.Workers> replyTo) implements Command {}

  private record Changed(WorkerRegistry.Workers workers) implements Command {}

  private enum Summarize implements Command {
    INSTANCE
  }

  /** Creates the directory, subscribed to {@code registry}. */
  public static Behavior<Command> create(
      ActorRef<WorkerRegistry.Command> registry, Duration summaryInterval) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new WorkerDirectory(ctx, timers, registry, summaryInterval)));
  }

  private WorkerRegistry.Workers current = new WorkerRegistry.Workers(Map.of());
  private boolean changedSinceSummary;

  private WorkerDirectory(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ActorRef<WorkerRegistry.Command> registry,
      Duration summaryInterval) {
    super(ctx);
    registry.tell(
        new WorkerRegistry.SubscribeWorkers(
            ctx.messageAdapter(WorkerRegistry.Workers.class, Changed::new)));
    timers.startTimerWithFixedDelay(Summarize.INSTANCE, summaryInterval);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Changed.class, this::onChanged)
        .onMessage(GetAvailable.class, this::onGetAvailable)
        .onMessageEquals(Summarize.INSTANCE, this::onSummarize)
        .build();
  }

  private Behavior<Command> onChanged(Changed msg) {
    Set<String> arrived = new HashSet<>(msg.workers().byId().keySet());
    arrived.removeAll(current.byId().keySet());
    Set<String> left = new HashSet<>(current.byId().keySet());
    left.removeAll(msg.workers().byId().keySet());
    arrived.forEach(
        id -> getContext().getLog().info("Worker available: {}", msg.workers().byId().get(id)));
    left.forEach(id -> getContext().getLog().info("Worker gone: {}", id));
    current = msg.workers();
    changedSinceSummary |= !arrived.isEmpty() || !left.isEmpty();
    return this;
  }

  private Behavior<Command> onGetAvailable(GetAvailable msg) {
    msg.replyTo().tell(current);
    return this;
  }

  private Behavior<Command> onSummarize() {
    if (changedSinceSummary) {
      changedSinceSummary = false;
      double gflops =
          current.byId().values().stream().mapToDouble(WorkerCapabilities::cpuGflops).sum();
      int cores = current.byId().values().stream().mapToInt(WorkerCapabilities::cores).sum();
      getContext()
          .getLog()
          .info(
              "Workers available: {} with {} cores, {} GFLOP/s in total",
              current.byId().size(),
              cores,
              String.format(Locale.ROOT, "%.1f", gflops));
    }
    return this;
  }
}
