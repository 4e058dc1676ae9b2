package io.flotilla.scheduler.job;

import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.planner.LinkMatrix;
import io.flotilla.scheduler.planner.PlanRequest;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.planner.Planner;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One job's manager: a Cluster Sharding entity, event-sourced on the scheduler's journal, so a job
 * outlives the node that hosted it. It keeps the job's {@link JobView}, plans a queued job whenever
 * the worker registry changes, and answers submit, read and cancel requests.
 *
 * <p>Step orchestration appends {@link JobEvent.JobStarted}, {@link JobEvent.StepCompleted}, {@link
 * JobEvent.JobCompleted} and {@link JobEvent.JobFailed}; their effect on the state is defined here
 * in {@link JobView#apply}.
 */
public final class JobManager extends EventSourcedBehavior<JobManager.Command, JobEvent, JobView> {

  /** The sharded entity type of job managers; the entity id is the job id. */
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "FlotillaJob");

  /** Messages a job manager understands. */
  public sealed interface Command extends ControlMessage {}

  /**
   * Submits the job under this manager's id. Replies with the state after submission, or an error
   * when the id is taken by another submission. Submitting the same spec again for the same team is
   * idempotent.
   */
  public record Submit(JobSpec spec, String team, ActorRef<StatusReply<JobView>> replyTo)
      implements Command {
    public Submit {
      Objects.requireNonNull(spec, "spec");
      Objects.requireNonNull(team, "team");
    }
  }

  /** Asks for the job's state ({@link JobView.Phase#NEW} when no job has this id). */
  public record Get(ActorRef<JobView> replyTo) implements Command {}

  /** Cancels the job on behalf of {@code team}; only the job's own team may. */
  public record Cancel(String team, ActorRef<StatusReply<JobView>> replyTo) implements Command {}

  private record WorkersChanged(WorkerRegistry.Workers workers)
      implements Command, NoSerializationVerificationNeeded {}

  /** The behavior of the manager of job {@code jobId}, following {@code registry}. */
  public static Behavior<Command> create(
      String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<WorkerRegistry.Command> registry,
      Clock clock,
      int snapshotEveryEvents) {
    return Behaviors.setup(
        ctx -> new JobManager(ctx, jobId, shard, registry, clock, snapshotEveryEvents));
  }

  private final ActorContext<Command> ctx;
  private final String jobId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Clock clock;
  private final int snapshotEveryEvents;
  private WorkerRegistry.Workers workers;

  private JobManager(
      ActorContext<Command> ctx,
      String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<WorkerRegistry.Command> registry,
      Clock clock,
      int snapshotEveryEvents) {
    super(PersistenceId.of(TYPE_KEY.name(), jobId));
    this.ctx = ctx;
    this.jobId = jobId;
    this.shard = shard;
    this.clock = clock;
    this.snapshotEveryEvents = snapshotEveryEvents;
    registry.tell(
        new WorkerRegistry.SubscribeWorkers(
            ctx.messageAdapter(WorkerRegistry.Workers.class, WorkersChanged::new)));
  }

  @Override
  public JobView emptyState() {
    return JobView.empty(jobId);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEveryEvents, 2);
  }

  @Override
  public CommandHandler<Command, JobEvent, JobView> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Submit.class, this::onSubmit)
        .onCommand(Get.class, this::onGet)
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(WorkersChanged.class, this::onWorkersChanged)
        .build();
  }

  /**
   * A job that has ended stops (passivates) after recovery and after its last event: remembered
   * entities then no longer restart it, so finished jobs cost nothing until someone reads them.
   */
  @Override
  public SignalHandler<JobView> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::passivateIfEnded)
        .build();
  }

  private void passivateIfEnded(JobView state) {
    if (state.phase().isTerminal()) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
  }

  @Override
  public EventHandler<JobView, JobEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(JobView::apply);
  }

  private Effect<JobEvent, JobView> onSubmit(JobView state, Submit cmd) {
    if (state.phase() != JobView.Phase.NEW) {
      if (state.team().equals(cmd.team()) && state.spec().equals(cmd.spec())) {
        return Effect().reply(cmd.replyTo(), StatusReply.success(state));
      }
      return Effect()
          .reply(
              cmd.replyTo(),
              StatusReply.error("job id " + jobId + " is already used by another submission"));
    }
    List<JobEvent> events = new ArrayList<>();
    JobEvent.JobSubmitted submitted = new JobEvent.JobSubmitted(cmd.team(), cmd.spec(), now());
    events.add(submitted);
    if (workers != null) {
      planEvent(state.apply(submitted)).ifPresent(events::add);
    }
    ctx.getLog().info("Job {} submitted by team {}", jobId, cmd.team());
    return Effect()
        .persist(events)
        .thenRun(this::passivateIfEnded)
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private Effect<JobEvent, JobView> onGet(JobView state, Get cmd) {
    return Effect().reply(cmd.replyTo(), state);
  }

  private Effect<JobEvent, JobView> onCancel(JobView state, Cancel cmd) {
    if (state.phase() == JobView.Phase.NEW || !state.team().equals(cmd.team())) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("no job " + jobId));
    }
    if (state.phase().isTerminal()) {
      return Effect()
          .reply(
              cmd.replyTo(),
              StatusReply.error(
                  "job " + jobId + " is already " + state.phase().name().toLowerCase(Locale.ROOT)));
    }
    ctx.getLog().info("Job {} cancelled by team {}", jobId, cmd.team());
    return Effect()
        .persist(new JobEvent.JobCancelled(cmd.team(), now()))
        .thenRun(this::passivateIfEnded)
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private Effect<JobEvent, JobView> onWorkersChanged(JobView state, WorkersChanged msg) {
    workers = msg.workers();
    if (state.phase() != JobView.Phase.QUEUED) {
      return Effect().none();
    }
    return planEvent(state)
        .<Effect<JobEvent, JobView>>map(e -> Effect().persist(e).thenRun(this::passivateIfEnded))
        .orElseGet(() -> Effect().none());
  }

  /**
   * The event that planning the queued job {@code state} on the known workers leads to, if it
   * changes anything: planned, queued for a new reason, or failed when the spec cannot be planned.
   */
  private Optional<JobEvent> planEvent(JobView state) {
    PlanResult result;
    try {
      result =
          Planner.plan(
              PlanRequest.forSpec(state.spec(), workers.sorted(), LinkMatrix.unmeasured()));
    } catch (IllegalArgumentException e) {
      return Optional.of(
          new JobEvent.JobFailed("the job cannot be planned: " + e.getMessage(), now()));
    }
    return switch (result) {
      case PlanResult.Plan plan -> {
        ctx.getLog().info("Job {} planned on {} workers", jobId, workers.byId().size());
        yield Optional.of(new JobEvent.JobPlanned(plan, now()));
      }
      case PlanResult.Waiting waiting ->
          waiting.equals(state.waiting())
              ? Optional.empty()
              : Optional.of(new JobEvent.JobQueued(waiting, now()));
    };
  }

  private Instant now() {
    return clock.instant();
  }
}
