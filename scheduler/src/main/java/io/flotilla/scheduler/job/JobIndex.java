package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.StatusReplies;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
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
 *
 * <p>The entity is a small front ({@link #create}) around the event-sourced index: it gathers the
 * {@link Add}s that arrive while a write is under way and writes them as one event ({@link
 * JobsListed}) when the write is done. A persistent actor stashes what arrives while it persists,
 * and a burst of thousands of submissions for one team (a load test, a script) overflowed that
 * stash one write per submission at a time: submissions failed with the job already created.
 */
public final class JobIndex
    extends EventSourcedBehavior<JobIndex.Command, JobIndex.Event, JobIndex.JobIds> {

  /** The sharded entity type of job indexes; the entity id is the team. */
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "FlotillaJobIndex");

  /** Messages the index understands. */
  public sealed interface Command extends ControlMessage {}

  /** Adds {@code jobId} to the team's list (once; adding it again changes nothing). */
  public record Add(String jobId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Asks for the team's job ids. */
  public record GetJobIds(ActorRef<JobIds> replyTo) implements Command {}

  /** Asks whether {@code jobId} is on the team's list. */
  public record Contains(String jobId, ActorRef<Listed> replyTo) implements Command {}

  /** Whether the job id asked about is on the team's list. */
  public record Listed(boolean listed) implements ControlMessage {}

  /** Adds {@code jobIds} in this order (the front's batch); replies once they are journaled. */
  public record AddAll(List<String> jobIds, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public AddAll {
      jobIds = List.copyOf(jobIds);
    }
  }

  /** The index's events. */
  public sealed interface Event extends ControlMessage {}

  /** The event of one job added (journals before batching hold these). */
  public record JobListed(String jobId) implements Event {}

  /** The event of jobs added together, in this order. */
  public record JobsListed(List<String> jobIds) implements Event {
    public JobsListed {
      jobIds = List.copyOf(jobIds);
    }
  }

  /** A team's job ids, oldest first (also the index's state). */
  public record JobIds(List<String> ids) implements ControlMessage {
    public JobIds {
      ids = List.copyOf(ids);
    }
  }

  /** The index of {@code team}'s jobs: the batching front and, as its child, the journal. */
  public static Behavior<Command> create(String team, int snapshotEveryEvents) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<Command> index = ctx.spawn(new JobIndex(team, snapshotEveryEvents), "journal");
          ctx.watch(index);
          return new Front(ctx, index);
        });
  }

  private record Written(StatusReply<Done> reply)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /**
   * Passes reads on and gathers adds: one {@link AddAll} at a time, answering the adds it held when
   * it is journaled. Stops with the journal (Cluster Sharding starts the entity again).
   */
  private static final class Front extends AbstractBehavior<Command> {
    private final ActorRef<Command> index;
    private final ActorRef<StatusReply<Done>> written;
    private List<Add> pending = new ArrayList<>();
    private List<Add> writing = List.of();

    Front(ActorContext<Command> ctx, ActorRef<Command> index) {
      super(ctx);
      this.index = index;
      this.written = ctx.messageAdapter(StatusReplies.ofDone(), Written::new);
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Add.class, this::onAdd)
          .onMessage(GetJobIds.class, this::toJournal)
          .onMessage(Contains.class, this::toJournal)
          .onMessage(Written.class, this::onWritten)
          .onSignal(Terminated.class, t -> onJournalStopped())
          .build();
    }

    /** The journal failed: the adds it held or had not been given yet are answered so. */
    private Behavior<Command> onJournalStopped() {
      StatusReply<Done> failed = StatusReply.error("the job index of this team failed; try again");
      List<Add> unanswered = new ArrayList<>(writing);
      unanswered.addAll(pending);
      unanswered.forEach(add -> add.replyTo().tell(failed));
      return Behaviors.stopped();
    }

    private Behavior<Command> onAdd(Add add) {
      pending.add(add);
      if (writing.isEmpty()) {
        write();
      }
      return this;
    }

    /** Reads go to the journal, which answers from its state. */
    private Behavior<Command> toJournal(Command read) {
      index.tell(read);
      return this;
    }

    private void write() {
      writing = pending;
      pending = new ArrayList<>();
      index.tell(new AddAll(writing.stream().map(Add::jobId).toList(), written));
    }

    private Behavior<Command> onWritten(Written msg) {
      writing.forEach(add -> add.replyTo().tell(msg.reply()));
      writing = List.of();
      if (!pending.isEmpty()) {
        write();
      }
      return this;
    }
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
  public CommandHandler<Command, Event, JobIds> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(AddAll.class, this::onAddAll)
        .onCommand(GetJobIds.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .onCommand(
            Contains.class,
            (state, cmd) ->
                Effect().reply(cmd.replyTo(), new Listed(state.ids().contains(cmd.jobId()))))
        .build();
  }

  private Effect<Event, JobIds> onAddAll(JobIds state, AddAll cmd) {
    java.util.Set<String> listed = new java.util.HashSet<>(state.ids());
    List<String> added = new ArrayList<>();
    for (String id : cmd.jobIds()) {
      if (listed.add(id)) {
        added.add(id);
      }
    }
    if (added.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    return Effect().persist(new JobsListed(added)).thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  @Override
  public EventHandler<JobIds, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onAnyEvent(
            (state, event) -> {
              List<String> ids = new ArrayList<>(state.ids());
              switch (event) {
                case JobListed one -> ids.add(one.jobId());
                case JobsListed many -> ids.addAll(many.jobIds());
              }
              return new JobIds(ids);
            });
  }
}
