package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The ids of one team's jobs, in submission order: a sharded, event-sourced entity whose id is the
 * team, read by {@code GET /jobs}.
 */
public final class JobIndex
    extends EventSourcedBehavior<JobIndex.Command, JobIndex.JobListed, JobIndex.JobIds> {

  /** The sharded entity type of job indexes; the entity id is the team. */
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "FlotillaJobIndex");

  /** Messages the index understands. */
  public sealed interface Command extends ControlMessage {}

  /** Adds {@code jobId} to the team's list (once; adding it again changes nothing). */
  public record Add(String jobId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Asks for the team's job ids. */
  public record GetJobIds(ActorRef<JobIds> replyTo) implements Command {}

  /** The event: {@code jobId} was added to the team's list. */
  public record JobListed(String jobId) implements ControlMessage {}

  /** A team's job ids, oldest first (also the index's state). */
  public record JobIds(List<String> ids) implements ControlMessage {
    public JobIds {
      ids = List.copyOf(ids);
    }
  }

  /** The index of {@code team}'s jobs. */
  public static JobIndex create(String team, int snapshotEveryEvents) {
    return new JobIndex(team, snapshotEveryEvents);
  }

  private final int snapshotEveryEvents;

  private JobIndex(String team, int snapshotEveryEvents) {
    super(PersistenceId.of(TYPE_KEY.name(), team));
    this.snapshotEveryEvents = snapshotEveryEvents;
  }

  @Override
  public JobIds emptyState() {
    return new JobIds(List.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEveryEvents, 2);
  }

  @Override
  public CommandHandler<Command, JobListed, JobIds> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Add.class, this::onAdd)
        .onCommand(GetJobIds.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .build();
  }

  private Effect<JobListed, JobIds> onAdd(JobIds state, Add cmd) {
    if (state.ids().contains(cmd.jobId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    return Effect()
        .persist(new JobListed(cmd.jobId()))
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  @Override
  public EventHandler<JobIds, JobListed> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onAnyEvent(
            (state, event) -> {
              List<String> ids = new ArrayList<>(state.ids());
              ids.add(event.jobId());
              return new JobIds(ids);
            });
  }
}
