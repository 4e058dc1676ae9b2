package io.flotilla.scheduler.job;

import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.gossip.placement.PlacementBoard;
import io.flotilla.gossip.placement.PlacementBoardExtension;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.ledger.LedgerBridge;
import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.ReceiptsSigned;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanRequest;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.planner.Planner;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
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
 * <p>Once the job is placed, a child {@link StepDriver} runs it on the workers' stage hosts and
 * reports each fact — started, step completed, checkpoint stored, finished, interrupted — which the
 * manager journals before the driver goes on. An interrupted job goes back to the queue and is
 * placed again on the workers there are; it resumes from its last checkpoint, or where it was when
 * every stage kept its state. After this manager moves to another node (its node died), it recovers
 * from the journal and starts a new driver that re-attaches to the workers' stages.
 */
public final class JobManager extends EventSourcedBehavior<JobManager.Command, JobEvent, JobView> {

  /** The sharded entity type of job managers; the entity id is the job id. */
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "FlotillaJob");

  /** The persistence id of job {@code jobId}'s journal. */
  public static String persistenceId(String jobId) {
    return PersistenceId.of(TYPE_KEY.name(), jobId).id();
  }

  /** Messages a job manager understands. */
  public interface Command extends ControlMessage {}

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

  private record DriverStopped(ActorRef<StepDriver.Command> driver)
      implements Command, NoSerializationVerificationNeeded {}

  /** The registry changes of the last {@code workers-interval} may be acted on now. */
  private enum WorkersIntervalOver implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private enum BackoffOver implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Receipts a worker signed; {@code reclaim} for those a recovered manager asked for again. */
  private record Receipts(TaskMessage message, boolean reclaim)
      implements Command, NoSerializationVerificationNeeded {}

  private record ReputationsChanged(ReputationRegistry.Reputations reputations)
      implements Command, NoSerializationVerificationNeeded {}

  private record Recorded(String what) implements Command, NoSerializationVerificationNeeded {}

  private enum PaymentsGaveUp implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** How long a completed job waits for the ledger to accept its last receipts. */
  private static final java.time.Duration PAYMENT_GRACE = java.time.Duration.ofMinutes(5);

  /** The behavior of the manager of job {@code jobId}, following {@code registry}. */
  public static Behavior<Command> create(
      String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<WorkerRegistry.Command> registry,
      CheckpointStore store,
      ActorRef<LedgerBridge.Command> ledger,
      ActorRef<ReputationRegistry.Command> reputation,
      LinkStore links,
      JobSettings settings,
      Clock clock) {
    // Every log line of the manager and its step driver names the job.
    return Behaviors.withMdc(
        Command.class,
        java.util.Map.of("jobId", jobId),
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers ->
                        new JobManager(
                            ctx,
                            timers,
                            jobId,
                            shard,
                            registry,
                            store,
                            ledger,
                            reputation,
                            links,
                            settings,
                            clock))));
  }

  private final ActorContext<Command> ctx;
  private final String jobId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Clock clock;
  private final int snapshotEveryEvents;
  private final CheckpointStore store;
  private final JobSettings.Orchestration orchestration;
  private final java.time.Duration workersInterval;

  /** Whether a {@code workers-interval} runs, and whether the registry changed within it. */
  private boolean workersIntervalRunning;

  private boolean workersChangedInInterval;

  private WorkerRegistry.Workers workers;
  private final TimerScheduler<Command> timers;
  private final ActorRef<LedgerBridge.Command> ledger;
  private final ActorRef<ReputationRegistry.Command> reputation;
  private final LinkStore links;
  private java.util.Set<String> quarantined = java.util.Set.of();

  /** The workers' reputations as last replicated: the step driver's shadow checks follow them. */
  private java.util.Map<String, WorkerReputation> reputations = java.util.Map.of();

  /** Workers of a tied vote in this job: the next placements avoid them while others suffice. */
  private final java.util.Set<String> suspects = new java.util.HashSet<>();

  /**
   * The job's last plan, whose layer cut a re-placement keeps: the journaled plan of a job that was
   * planned or running when this manager recovered, else the last one made here (a manager that
   * recovers a job between an interruption and its next plan may cut once more).
   */
  private PlanResult.Plan lastPlan;

  /** The node's placement board, and the plan whose workers this job last told it it holds. */
  private final ActorRef<PlacementBoard.Command> placements;

  private PlanResult.Plan publishedPlan;

  private final long unitsPerCurrency;
  private final ActorRef<TaskMessage> receipts;

  /**
   * Set when this manager recovered a paid job that had run steps: receipts its predecessor asked
   * for may have been lost with it, so the next driver asks every worker for receipts of all its
   * work once, answering here. Cleared at the first checkpoint after recovery.
   */
  private ActorRef<TaskMessage> reclaimReceipts;

  /**
   * Set when a recovered completed job is to reclaim its receipts: the workers asked so far, each
   * asked once the registry holds it. Null when no reclaim is under way.
   */
  private java.util.Set<String> reclaimedFrom;

  private ActorRef<JobPaymaster.Command> paymaster;
  private ActorRef<StepDriver.Command> driver;
  private int drivers;
  private boolean backingOff;
  private boolean paymentsGaveUp;
  private final JobMetrics metrics;

  /** Set once recovery completed: events replayed before it are not counted again. */
  private boolean recovered;

  private JobManager(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<WorkerRegistry.Command> registry,
      CheckpointStore store,
      ActorRef<LedgerBridge.Command> ledger,
      ActorRef<ReputationRegistry.Command> reputation,
      LinkStore links,
      JobSettings settings,
      Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), jobId));
    this.links = links;
    this.reputation = reputation;
    reputation.tell(
        new ReputationRegistry.SubscribeReputations(
            ctx.messageAdapter(ReputationRegistry.Reputations.class, ReputationsChanged::new)));
    this.ledger = ledger;
    this.unitsPerCurrency = settings.unitsPerCurrency();
    this.receipts = ctx.messageAdapter(TaskMessage.class, m -> new Receipts(m, false));
    this.ctx = ctx;
    this.timers = timers;
    this.jobId = jobId;
    this.shard = shard;
    this.clock = clock;
    this.snapshotEveryEvents = settings.snapshotEveryEvents();
    this.store = store;
    this.orchestration = settings.orchestration();
    this.workersInterval = settings.workersInterval();
    this.metrics = JobMetrics.get(ctx.getSystem());
    this.placements = PlacementBoardExtension.get(ctx.getSystem()).board();
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
        .onCommand(WorkersIntervalOver.class, this::onWorkersIntervalOver)
        .onCommand(StepDriver.Started.class, this::onStarted)
        .onCommand(StepDriver.Stepped.class, this::onStepped)
        .onCommand(StepDriver.Checkpointed.class, this::onCheckpointed)
        .onCommand(StepDriver.Finished.class, this::onFinished)
        .onCommand(StepDriver.Interrupted.class, this::onInterrupted)
        .onCommand(DriverStopped.class, this::onDriverStopped)
        .onCommand(BackoffOver.class, this::onBackoffOver)
        .onCommand(Receipts.class, this::onReceipts)
        .onCommand(ReputationsChanged.class, this::onReputationsChanged)
        .onCommand(StepDriver.Verified.class, this::onVerified)
        .onCommand(StepDriver.Dissent.class, this::onDissent)
        .onCommand(
            StepDriver.Suspects.class,
            (state, msg) -> {
              ctx.getLog()
                  .warn(
                      "Job {}: replicas {} disagree without a majority; placed apart if possible",
                      jobId,
                      msg.workerIds());
              suspects.addAll(msg.workerIds());
              metrics.verified(JobMetrics.Verification.UNDECIDED, msg.workerIds().size());
              return Effect().none();
            })
        .onCommand(
            Recorded.class,
            (state, msg) -> {
              if (msg.what() != null) {
                ctx.getLog().warn("Job {}: reputation not recorded: {}", jobId, msg.what());
              }
              return Effect().none();
            })
        .onCommand(JobPaymaster.Paid.class, this::onPaid)
        .onCommand(JobPaymaster.Reclaimed.class, this::onReclaimed)
        .onCommand(JobPaymaster.Refused.class, this::onRefused)
        .onCommand(
            PaymentsGaveUp.class,
            (state, msg) -> {
              paymentsGaveUp = true;
              passivateIfEnded(state);
              return Effect().none();
            })
        .build();
  }

  /**
   * A job that has ended stops (passivates) after recovery and after its last event: remembered
   * entities then no longer restart it, so finished jobs cost nothing until someone reads them.
   */
  @Override
  public SignalHandler<JobView> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              recovered = true;
              metrics.recovered(state);
              if (state.plan() != null) {
                lastPlan = state.plan();
              }
              publishPlacement(state);
              boolean running = !state.phase().isTerminal();
              if (state.spec() != null
                  && JobPayments.paid(state.spec())
                  && state.stepsCompleted() > 0
                  && (running || awaitsPayments(state))) {
                ActorRef<JobManager.Command> self = ctx.getSelf();
                reclaimReceipts =
                    ctx.spawn(
                        Behaviors.receiveMessage(
                            (TaskMessage m) -> {
                              self.tell(new Receipts(m, true));
                              return Behaviors.same();
                            }),
                        "reclaimed-receipts");
                // A running job's next driver asks; for a completed one this manager does.
                reclaimedFrom = running ? null : new java.util.HashSet<>();
              }
              passivateIfEnded(state);
            })
        .onSignal(PostStop.instance(), state -> metrics.stopped(jobId))
        .build();
  }

  /**
   * Tells the placement board which workers this job holds: those of its plan while it is planned
   * or running, none otherwise. Other jobs' planners then prefer workers it does not use.
   */
  private void publishPlacement(JobView state) {
    boolean holds =
        state.phase() == JobView.Phase.PLANNED || state.phase() == JobView.Phase.RUNNING;
    PlanResult.Plan holding = holds ? state.plan() : null;
    // Step events keep the plan object: compare by identity, so a step costs nothing here.
    if (holding == publishedPlan) {
      return;
    }
    publishedPlan = holding;
    placements.tell(
        holding != null
            ? new PlacementBoard.Hold(jobId, holding.workerIds())
            : new PlacementBoard.Free(jobId));
  }

  /** Other jobs' plans that use each of {@code candidates}, from this node's placement board. */
  private Map<String, Integer> otherJobs(List<WorkerCapabilities> candidates) {
    PlacementBoard.Loads loads = PlacementBoardExtension.get(ctx.getSystem()).loads();
    Map<String, Integer> shared = new HashMap<>();
    for (WorkerCapabilities w : candidates) {
      int n = loads.otherJobs(w.workerId(), jobId);
      if (n > 0) {
        shared.put(w.workerId(), n);
      }
    }
    return shared;
  }

  private void passivateIfEnded(JobView state) {
    if (!state.phase().isTerminal()) {
      return;
    }
    if (awaitsPayments(state) && !paymentsGaveUp) {
      // Receipts for the last steps are being signed and paid: stay until they are journaled.
      timers.startSingleTimer(PaymentsGaveUp.INSTANCE, PAYMENT_GRACE);
      return;
    }
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
  }

  /** Whether a completed paid job still expects the ledger to accept receipts for its steps. */
  private static boolean awaitsPayments(JobView state) {
    if (state.phase() != JobView.Phase.COMPLETED
        || !JobPayments.paid(state.spec())
        || state.plan() == null) {
      return false;
    }
    long expected =
        state.stepsCompleted() * state.plan().stages().size() * (long) state.plan().replicas();
    long paid = state.payments().values().stream().mapToLong(WorkerPay::receipts).sum();
    return paid < expected;
  }

  @Override
  public EventHandler<JobView, JobEvent> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onAnyEvent(
            (state, event) -> {
              JobView next = state.apply(event);
              if (recovered) {
                metrics.applied(state, event, next);
                publishPlacement(next);
              }
              return next;
            });
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
        .thenRun(this::afterEvents)
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
    stopDriver("job cancelled");
    return Effect()
        .persist(new JobEvent.JobCancelled(cmd.team(), now()))
        .thenRun(this::passivateIfEnded)
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private Effect<JobEvent, JobView> onWorkersChanged(JobView state, WorkersChanged msg) {
    workers = msg.workers();
    if (workersIntervalRunning) {
      workersChangedInInterval = true; // acted on when the interval is over
      return Effect().none();
    }
    startWorkersInterval();
    return actOnWorkers(state);
  }

  private Effect<JobEvent, JobView> onWorkersIntervalOver(JobView state, WorkersIntervalOver msg) {
    workersIntervalRunning = false;
    if (!workersChangedInInterval) {
      return Effect().none();
    }
    startWorkersInterval();
    return actOnWorkers(state);
  }

  private void startWorkersInterval() {
    workersChangedInInterval = false;
    if (!workersInterval.isZero()) {
      workersIntervalRunning = true;
      timers.startSingleTimer(WorkersIntervalOver.INSTANCE, workersInterval);
    }
  }

  /** Acts on the registry as last seen: tells the driver, plans a queued job. */
  private Effect<JobEvent, JobView> actOnWorkers(JobView state) {
    tellDriverWorkers();
    if (reclaimedFrom != null
        && ReceiptReclaimer.reclaim(state, workers.byId(), reclaimReceipts, reclaimedFrom)) {
      reclaimedFrom = null;
    }
    if (state.phase() != JobView.Phase.QUEUED) {
      startDriverIfPlaced(state);
      return Effect().none();
    }
    if (backingOff) {
      return Effect().none();
    }
    return planEvent(state)
        .<Effect<JobEvent, JobView>>map(e -> Effect().persist(e).thenRun(this::afterEvents))
        .orElseGet(() -> Effect().none());
  }

  /** The driver hears of the workers there are, less the quarantined ones. */
  private void tellDriverWorkers() {
    if (driver != null && workers != null) {
      java.util.Map<String, WorkerCapabilities> usable = workers.byId();
      if (!quarantined.isEmpty()) {
        usable = new java.util.HashMap<>(usable);
        usable.keySet().removeAll(quarantined);
      }
      driver.tell(new StepDriver.WorkersNow(usable));
    }
  }

  private Effect<JobEvent, JobView> onReputationsChanged(JobView state, ReputationsChanged msg) {
    reputations = msg.reputations().byId();
    if (driver != null) {
      driver.tell(new StepDriver.ReputationsNow(reputations));
    }
    java.util.Set<String> now = msg.reputations().quarantinedIds();
    if (now.equals(quarantined)) {
      return Effect().none();
    }
    quarantined = now;
    tellDriverWorkers();
    if (state.phase() != JobView.Phase.QUEUED || backingOff || workers == null) {
      return Effect().none();
    }
    return planEvent(state)
        .<Effect<JobEvent, JobView>>map(e -> Effect().persist(e).thenRun(this::afterEvents))
        .orElseGet(() -> Effect().none());
  }

  /** Workers' results were verified (by their replicas' vote or by a shadow). */
  private Effect<JobEvent, JobView> onVerified(JobView state, StepDriver.Verified msg) {
    metrics.verified(
        JobMetrics.Verification.VALID,
        (int) msg.results().values().stream().mapToLong(Long::longValue).sum());
    for (var e : msg.results().entrySet()) {
      ctx.askWithStatus(
          org.apache.pekko.Done.class,
          reputation,
          java.time.Duration.ofSeconds(10),
          replyTo -> new ReputationRegistry.RecordValid(e.getKey(), e.getValue(), replyTo),
          (ok, error) -> new Recorded(error == null ? null : error.getMessage()));
    }
    return Effect().none();
  }

  /** A worker's result disagreed with the other replicas of its stage: an invalid result. */
  private Effect<JobEvent, JobView> onDissent(JobView state, StepDriver.Dissent msg) {
    ctx.getLog().warn("Job {}: invalid result from {}: {}", jobId, msg.workerId(), msg.reason());
    metrics.verified(JobMetrics.Verification.INVALID, 1);
    ctx.askWithStatus(
        org.apache.pekko.Done.class,
        reputation,
        java.time.Duration.ofSeconds(10),
        replyTo -> new ReputationRegistry.RecordInvalid(msg.workerId(), msg.reason(), replyTo),
        (ok, error) -> new Recorded(error == null ? null : error.getMessage()));
    return Effect().none();
  }

  /** After events were journaled: start training once placed, stop once ended. */
  private void afterEvents(JobView state) {
    startDriverIfPlaced(state);
    passivateIfEnded(state);
  }

  /**
   * Starts a step driver for a placed or running job that has none, once the registry is known: on
   * a new plan, and after this manager recovered on another node (the driver then re-attaches to
   * the workers' stages, or restores them from the last checkpoint).
   */
  private void startDriverIfPlaced(JobView state) {
    if (driver != null
        || workers == null
        || (state.phase() != JobView.Phase.PLANNED && state.phase() != JobView.Phase.RUNNING)) {
      return;
    }
    ActorRef<StepDriver.Command> d =
        ctx.spawn(
            Behaviors.withMdc(
                StepDriver.Command.class,
                java.util.Map.of("jobId", jobId),
                StepDriver.create(
                    state,
                    workers.byId(),
                    store,
                    links,
                    orchestration,
                    ctx.getSelf(),
                    JobPayments.paid(state.spec()) ? receipts : null,
                    JobPayments.paid(state.spec()) ? reclaimReceipts : null,
                    reputations,
                    suspects)),
            "driver-" + ++drivers);
    ctx.watchWith(d, new DriverStopped(d));
    driver = d;
    tellDriverWorkers();
  }

  private void stopDriver(String reason) {
    if (driver != null) {
      driver.tell(new StepDriver.Stop(reason));
      driver = null;
    }
  }

  private void continueDriver() {
    if (driver != null) {
      driver.tell(new StepDriver.Continue());
    }
  }

  private boolean fromDriver(JobView state) {
    return driver != null
        && (state.phase() == JobView.Phase.PLANNED || state.phase() == JobView.Phase.RUNNING);
  }

  private Effect<JobEvent, JobView> onStarted(JobView state, StepDriver.Started fact) {
    if (!fromDriver(state)) {
      return Effect().none();
    }
    ctx.getLog()
        .info(
            "Job {} {} at step {} on {} workers",
            jobId,
            fact.fromStep() == 0 && state.stepsCompleted() == 0 ? "starts" : "resumes",
            fact.fromStep(),
            state.plan().stages().size() * state.plan().replicas());
    return Effect()
        .persist(new JobEvent.JobStarted(fact.fromStep(), now()))
        .thenRun(s -> continueDriver());
  }

  private Effect<JobEvent, JobView> onStepped(JobView state, StepDriver.Stepped fact) {
    if (!fromDriver(state)) {
      return Effect().none();
    }
    return Effect()
        .persist(new JobEvent.StepCompleted(fact.metrics(), now()))
        .thenRun(s -> continueDriver());
  }

  private Effect<JobEvent, JobView> onCheckpointed(JobView state, StepDriver.Checkpointed fact) {
    if (!fromDriver(state)) {
      return Effect().none();
    }
    // This driver asks for the reclaimed receipts now; later drivers need not.
    reclaimReceipts = null;
    ctx.getLog()
        .info(
            "Job {}: checkpoint after step {} stored ({} bytes in {} shards)",
            jobId,
            fact.checkpoint().step(),
            fact.checkpoint().bytes(),
            fact.checkpoint().shards().size());
    return Effect()
        .persist(new JobEvent.CheckpointSaved(fact.checkpoint(), now()))
        .thenRun(
            s -> {
              pruneCheckpoints(s);
              continueDriver();
            });
  }

  private void pruneCheckpoints(JobView state) {
    int keep = state.spec().checkpoint().keepLast();
    if (keep <= 0) {
      return;
    }
    try {
      store.retainNewest(jobId, keep, state.checkpoint());
    } catch (java.io.IOException | RuntimeException e) {
      ctx.getLog().warn("Job {}: cannot delete old checkpoints: {}", jobId, e.toString());
    }
  }

  private Effect<JobEvent, JobView> onFinished(JobView state, StepDriver.Finished fact) {
    if (!fromDriver(state)) {
      return Effect().none();
    }
    ctx.getLog().info("Job {} completed {} steps", jobId, state.stepsCompleted());
    return Effect()
        .persist(new JobEvent.JobCompleted(now()))
        .thenRun(
            s -> {
              continueDriver();
              driver = null;
              passivateIfEnded(s);
            });
  }

  private Effect<JobEvent, JobView> onInterrupted(JobView state, StepDriver.Interrupted fact) {
    driver = null;
    if (state.phase() != JobView.Phase.PLANNED && state.phase() != JobView.Phase.RUNNING) {
      return Effect().none();
    }
    if (state.restarts() >= orchestration.maxRestarts()) {
      return Effect()
          .persist(
              new JobEvent.JobFailed(
                  "interrupted "
                      + (state.restarts() + 1)
                      + " times (flotilla.scheduler.jobs.max-restarts = "
                      + orchestration.maxRestarts()
                      + "); last: "
                      + fact.reason(),
                  now()))
          .thenRun(this::passivateIfEnded);
    }
    java.time.Duration backoff = orchestration.restartBackoff(state.restarts() + 1);
    ctx.getLog().info("Job {} is placed again in {}: {}", jobId, backoff, fact.reason());
    backingOff = true;
    timers.startSingleTimer(BackoffOver.INSTANCE, backoff);
    return Effect()
        .persist(new JobEvent.JobInterrupted(fact.reason(), now()))
        .thenRun(this::afterEvents);
  }

  private Effect<JobEvent, JobView> onBackoffOver(JobView state, BackoffOver msg) {
    backingOff = false;
    if (state.phase() != JobView.Phase.QUEUED || workers == null) {
      return Effect().none();
    }
    return planEvent(state)
        .<Effect<JobEvent, JobView>>map(e -> Effect().persist(e).thenRun(this::afterEvents))
        .orElseGet(() -> Effect().none());
  }

  /** Receipts workers signed: handed to the job's paymaster, which submits them to the ledger. */
  private Effect<JobEvent, JobView> onReceipts(JobView state, Receipts msg) {
    if (!(msg.message() instanceof ReceiptsSigned signed) || !JobPayments.paid(state.spec())) {
      return Effect().none();
    }
    if (quarantined.contains(signed.workerId())) {
      ctx.getLog()
          .warn(
              "Job {}: {} receipts of quarantined worker {} are not paid",
              jobId,
              signed.receipts().size(),
              signed.workerId());
      return Effect().none();
    }
    if (paymaster == null) {
      try {
        paymaster =
            ctx.spawn(
                JobPaymaster.create(
                    jobId,
                    JobPayments.terms(state.spec(), unitsPerCurrency),
                    JobPayments.budget(state.spec(), unitsPerCurrency),
                    ledger,
                    ctx.getSelf()),
                "paymaster");
      } catch (IllegalArgumentException e) {
        ctx.getLog().warn("Job {}: workers cannot be paid: {}", jobId, e.getMessage());
        return Effect().none();
      }
    }
    paymaster.tell(new JobPaymaster.Pay(signed, msg.reclaim()));
    return Effect().none();
  }

  private Effect<JobEvent, JobView> onPaid(JobView state, JobPaymaster.Paid paid) {
    return Effect()
        .persist(
            new JobEvent.WorkPaid(
                paid.workerId(), paid.address(), paid.receipts(), paid.units(), now()))
        .thenRun(this::passivateIfEnded);
  }

  /**
   * A reclaimed batch: newly accepted receipts are certainly unrecorded; of those the ledger had
   * accepted before, the job may have recorded all, some or none. Counting at most the replayed
   * receipts the job does not already show keeps its record equal to the ledger's when the worker
   * held one slot, and never above it.
   */
  private Effect<JobEvent, JobView> onReclaimed(JobView state, JobPaymaster.Reclaimed r) {
    WorkerPay before = state.payments().get(r.workerId());
    long recordedReceipts = before == null ? 0 : before.receipts();
    long recordedUnits = before == null ? 0 : before.units();
    int receipts = r.accepted() + (int) Math.max(0, r.replayed() - recordedReceipts);
    long units = r.units() + Math.max(0, r.replayedUnits() - recordedUnits);
    if (r.replayed() > 0) {
      ctx.getLog()
          .info(
              "Job {}: worker {} reclaimed {} receipts the ledger had paid already; {} not yet"
                  + " recorded by the job",
              jobId,
              r.workerId(),
              r.replayed(),
              receipts - r.accepted());
    }
    if (receipts == 0 && units == 0) {
      return Effect().none();
    }
    return Effect()
        .persist(new JobEvent.WorkPaid(r.workerId(), r.address(), receipts, units, now()))
        .thenRun(this::passivateIfEnded);
  }

  private Effect<JobEvent, JobView> onRefused(JobView state, JobPaymaster.Refused refused) {
    paymaster = null;
    if (state.phase().isTerminal() || state.phase() == JobView.Phase.PAUSED) {
      return Effect().none();
    }
    ctx.getLog().warn("Job {} paused: {}", jobId, refused.reason());
    stopDriver("job paused: " + refused.reason());
    return Effect().persist(new JobEvent.JobPaused(refused.reason(), now()));
  }

  private Effect<JobEvent, JobView> onDriverStopped(JobView state, DriverStopped msg) {
    if (msg.driver().equals(driver)) {
      // The driver stopped without telling why (it failed): treat it as an interruption.
      return onInterrupted(
          state, new StepDriver.Interrupted("the step driver of job " + jobId + " failed"));
    }
    return Effect().none();
  }

  /**
   * The event that planning the queued job {@code state} on the known workers leads to, if it
   * changes anything: planned, queued for a new reason, or failed when the spec cannot be planned.
   */
  private Optional<JobEvent> planEvent(JobView state) {
    PlanResult result;
    try {
      // Only workers whose data plane and stage host are up, and not quarantined, run a stage.
      List<WorkerCapabilities> ready =
          workers.sorted().stream()
              .filter(w -> w.placeable() && !quarantined.contains(w.workerId()))
              .toList();
      Map<String, Integer> shared = otherJobs(ready);
      result =
          Planner.plan(
              PlanRequest.forSpec(state.spec(), ready, links.matrix())
                  .keepingCutOf(lastPlan)
                  .sharing(shared));
      if (!suspects.isEmpty()) {
        List<WorkerCapabilities> unsuspected =
            ready.stream().filter(w -> !suspects.contains(w.workerId())).toList();
        PlanResult without =
            Planner.plan(
                PlanRequest.forSpec(state.spec(), unsuspected, links.matrix())
                    .keepingCutOf(lastPlan)
                    .sharing(shared));
        if (without instanceof PlanResult.Plan) {
          result = without;
        }
      }
    } catch (IllegalArgumentException e) {
      return Optional.of(
          new JobEvent.JobFailed("the job cannot be planned: " + e.getMessage(), now()));
    }
    return switch (result) {
      case PlanResult.Plan plan -> {
        lastPlan = plan;
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
