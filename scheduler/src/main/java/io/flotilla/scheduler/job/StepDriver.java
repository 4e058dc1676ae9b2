package io.flotilla.scheduler.job;

import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.CheckpointRef;
import io.flotilla.protocol.task.CheckpointSaved;
import io.flotilla.protocol.task.RunStep;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.StageReady;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepMode;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.verify.AdaptiveReplication;
import io.flotilla.scheduler.verify.Execution;
import io.flotilla.scheduler.verify.ShadowCheck;
import io.flotilla.scheduler.verify.TaskKey;
import io.flotilla.scheduler.verify.Tolerance;
import io.flotilla.scheduler.verify.Verdict;
import io.flotilla.scheduler.verify.VerificationLog;
import io.flotilla.scheduler.verify.VerificationLogWriter;
import io.flotilla.scheduler.verify.Verifier;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Drives one placed job's training on its workers' stage hosts, as a child of the job's {@link
 * JobManager}: finds the host of every planned worker, has each build (or keep, or restore) its
 * stage, then runs the steps — every stage replica runs step s, reports, and only when all P x D
 * reports are in does the manager journal the step and the driver order the next. Every {@code
 * checkpoint.interval_steps} steps (and after the last) it has replica 0 of each stage upload its
 * shard to the scheduler's {@link CheckpointStore}.
 *
 * <p>Each fact goes to the manager, which journals it and acknowledges before the driver goes on,
 * so the journal never runs behind what the driver did. A worker that leaves, fails, reports
 * nonsense or misses a deadline interrupts the run: the driver tells the manager why, releases the
 * hosts and stops; the manager places the job again.
 */
final class StepDriver extends AbstractBehavior<StepDriver.Command> {

  /** Messages the driver understands. */
  interface Command extends NoSerializationVerificationNeeded {}

  /** The manager journaled the last fact; go on. */
  record Continue() implements Command {}

  /**
   * The usable (registered, not quarantined) workers changed; a planned worker missing from them
   * stops the run, the others may be shadows.
   */
  record WorkersNow(Map<String, WorkerCapabilities> workers) implements Command {
    public WorkersNow {
      workers = Map.copyOf(workers);
    }

    Set<String> workerIds() {
      return workers.keySet();
    }
  }

  /** The workers' reputations changed: shadow checks of the next steps follow them. */
  record ReputationsNow(Map<String, WorkerReputation> byId) implements Command {}

  /** Stop and release the hosts (the job was cancelled). */
  record Stop(String reason) implements Command {}

  private record Reply(TaskMessage message) implements Command {}

  private record HostGone(String workerId) implements Command {}

  /** The deadline timer fired (it may be early: see {@link RollingDeadline}). */
  private enum Deadline implements Command {
    FIRED
  }

  /** Facts the driver reports to its manager. */
  sealed interface Fact extends JobManager.Command, NoSerializationVerificationNeeded {}

  /** Every stage is ready; training goes on from {@code fromStep}. */
  record Started(long fromStep) implements Fact {}

  /** A step finished on every stage replica. */
  record Stepped(StepMetrics metrics) implements Fact {}

  /** A checkpoint is stored. */
  record Checkpointed(CheckpointRecord checkpoint) implements Fact {}

  /** The last step and its checkpoint are done. */
  record Finished() implements Fact {}

  /** The run stopped and needs a new placement. */
  record Interrupted(String reason) implements Fact {}

  /**
   * These workers' results were verified — by the vote of their stage's replicas up to a stored
   * checkpoint, or by a shadow that agreed — this many of them each: valid work for their
   * reputation.
   */
  record Verified(Map<String, Long> results) implements Fact {}

  /** {@code workerId}'s result disagreed with the majority of its stage's replicas. */
  record Dissent(String workerId, String reason) implements Fact {}

  /**
   * The replicas of a stage disagreed with no majority: one of {@code workerIds} is wrong, which
   * one is unknown.
   */
  record Suspects(List<String> workerIds) implements Fact {}

  static Behavior<Command> create(
      JobView state,
      Map<String, WorkerCapabilities> workers,
      CheckpointStore store,
      LinkStore links,
      JobSettings.Orchestration settings,
      ActorRef<JobManager.Command> manager,
      ActorRef<TaskMessage> receipts,
      ActorRef<TaskMessage> reclaimReceipts,
      Map<String, WorkerReputation> reputations,
      Set<String> suspects) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  try {
                    return new StepDriver(
                        ctx,
                        timers,
                        state,
                        workers,
                        store,
                        links,
                        settings,
                        manager,
                        receipts,
                        reclaimReceipts,
                        reputations,
                        suspects);
                  } catch (IllegalArgumentException | IllegalStateException e) {
                    manager.tell(new Interrupted(e.getMessage()));
                    return Behaviors.stopped();
                  }
                }));
  }

  private enum Phase {
    LOCATING,
    PREPARING,
    PROBING,
    STARTING,
    PREPARING_SHADOWS,
    STEPPING,
    TIE_BREAKING,
    RECORDING_STEP,
    CHECKPOINTING,
    RECORDING_CHECKPOINT,
    FINISHING
  }

  private static final int RECENT_STEPS = 20;

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final String jobId;
  private final JobSpec spec;
  private final PlanResult.Plan plan;
  private final long totalSteps;
  private final long checkpointInterval;
  private final CheckpointStore store;
  private final JobSettings.Orchestration settings;
  private final ActorRef<JobManager.Command> manager;
  private final Map<String, WorkerCapabilities> workers;
  private final List<StageAssignment> assignments;
  private final CheckpointRecord checkpoint;
  private final long stepsCompleted;
  private final ActorRef<TaskMessage> replies;
  private final ActorRef<TaskMessage> receipts;
  private final LinkStore links;
  private final Map<String, String[]> probes = new HashMap<>();
  private ActorRef<TaskMessage> reclaimReceipts;
  private long receiptedSteps;
  private final Map<String, ActorRef<StageHostCommand>> hosts = new HashMap<>();
  private final Map<String, TaskMessage> received = new LinkedHashMap<>();
  private final Map<String, String> uploadUrls = new HashMap<>();
  private final Deque<Long> recentStepNanos = new ArrayDeque<>();
  private Phase phase = Phase.LOCATING;

  /** The deadline of the phase under way (locating, preparing, a step, a checkpoint). */
  private final RollingDeadline deadline;

  private long resumeStep;
  private boolean forcedRestore;
  private long step;
  private long stepStartNanos;
  private final Map<String, TaskMessage> recovered = new LinkedHashMap<>();
  private final Verifier verifier;
  private final VerificationLogWriter logWriter;
  private final java.nio.file.Path logFile;
  private final org.slf4j.Logger logger;

  /** Decides which replicas' steps get shadows (adaptive replication, spot checks). */
  private final AdaptiveReplication replication;

  /**
   * Whether the job's steps are ever shadowed: it asks for redundancy or spot checks and is
   * synchronous (DiLoCo replicas differ between synchronisations by design).
   */
  private final boolean checked;

  /** Judges shadow runs; allows a tie-breaker run. */
  private final Verifier shadowVerifier;

  private Map<String, WorkerReputation> reputations;

  /** Workers of tied votes of this job: shadows only where no one else is free. */
  private final Set<String> suspects;

  /** The usable workers as last told, by id: spares for shadows come from them. */
  private Map<String, WorkerCapabilities> usable;

  /** The last stored checkpoint (null before the first): shadows start from it. */
  private CheckpointRecord latest;

  /** The shadows of the current step, or null. */
  private ShadowRuns shadows;

  private final Map<String, ActorRef<StageHostCommand>> shadowHosts = new HashMap<>();

  /** Steps up to which the job's own workers were credited with valid results. */
  private long creditedUpTo;

  /** Per own worker, its steps since then that a shadow verified (single-replica jobs). */
  private final Map<String, Long> shadowVerified = new HashMap<>();

  private final JobMetrics metrics;

  private StepDriver(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      JobView state,
      Map<String, WorkerCapabilities> workers,
      CheckpointStore store,
      LinkStore links,
      JobSettings.Orchestration settings,
      ActorRef<JobManager.Command> manager,
      ActorRef<TaskMessage> receipts,
      ActorRef<TaskMessage> reclaimReceipts,
      Map<String, WorkerReputation> reputations,
      Set<String> suspects) {
    super(ctx);
    this.suspects = Set.copyOf(suspects);
    this.reputations = Map.copyOf(reputations);
    this.metrics = JobMetrics.get(ctx.getSystem());
    this.usable = Map.copyOf(workers);
    this.latest = state.checkpoint();
    this.replication =
        new AdaptiveReplication(
            state.spec().verification(), settings.verification(), state.spec().training().seed());
    io.flotilla.protocol.job.VerificationSpec verification = state.spec().verification();
    this.checked =
        (verification.redundancy() != io.flotilla.protocol.job.RedundancyMode.NONE
                || verification.spotCheckRate() > 0)
            && state.spec().parallelism().gradientSync()
                != io.flotilla.protocol.job.GradientSync.DILOCO;
    this.shadowVerifier =
        new Verifier(
            Tolerance.of(state.spec().verification()),
            Math.max(3, settings.verification().maxExecutions()));
    this.links = links;
    this.receipts = receipts;
    this.reclaimReceipts = reclaimReceipts;
    // Receipts up to the checkpoint were asked for already, unless they are to be reclaimed.
    this.receiptedSteps =
        state.checkpoint() == null || reclaimReceipts != null ? 0 : state.checkpoint().step();
    this.ctx = ctx;
    this.timers = timers;
    this.jobId = state.jobId();
    this.spec = state.spec();
    this.plan = state.plan();
    this.totalSteps = spec.training().steps();
    this.checkpointInterval = Math.max(1, spec.checkpoint().intervalSteps());
    this.store = store;
    this.settings = settings;
    this.manager = manager;
    this.workers = Map.copyOf(workers);
    this.checkpoint = state.checkpoint();
    this.stepsCompleted = state.stepsCompleted();
    this.assignments = assignments(jobId, spec, plan, workers);
    this.replies = ctx.messageAdapter(TaskMessage.class, Reply::new);
    this.verifier = new Verifier(Tolerance.of(spec.verification()), 2);
    this.logger = ctx.getLog();
    this.deadline =
        new RollingDeadline(
            System::nanoTime,
            nanos -> timers.startSingleTimer("deadline", Deadline.FIRED, Duration.ofNanos(nanos)));
    this.logWriter = VerificationLogs.get(ctx.getSystem()).writer();
    this.logFile = store.verificationLog(jobId);
    deadline.arm(settings.prepareTimeout(), "finding the stage hosts of " + plannedWorkers());
    locate(workers);
  }

  /** The P x D assignments of {@code plan}, with every slot's data-plane endpoint. */
  static List<StageAssignment> assignments(
      String jobId, JobSpec spec, PlanResult.Plan plan, Map<String, WorkerCapabilities> workers) {
    List<StageSlot> slots = new ArrayList<>();
    for (PlanResult.StagePlan stage : plan.stages()) {
      for (PlanResult.Placement p : stage.workers()) {
        if (p.copy() > 0) {
          continue; // a fixed factor's further copies are the shadows' first choice, not slots
        }
        WorkerCapabilities caps = workers.get(p.workerId());
        if (caps == null || caps.dataPlane() == null) {
          throw new IllegalArgumentException(
              "worker " + p.workerId() + " has no data-plane endpoint in the registry");
        }
        slots.add(
            new StageSlot(
                stage.index(),
                p.replica(),
                p.workerId(),
                caps.dataPlane(),
                caps.dataPlane().streamId()));
      }
    }
    List<StageAssignment> result = new ArrayList<>();
    for (StageSlot slot : slots) {
      PlanResult.StagePlan stage = plan.stages().get(slot.stage());
      result.add(
          new StageAssignment(
              jobId,
              spec,
              slot.stage(),
              plan.stages().size(),
              stage.firstLayer(),
              stage.lastLayer() + 1,
              slot.replica(),
              plan.replicas(),
              slots));
    }
    return result;
  }

  private List<String> plannedWorkers() {
    return assignments.stream().map(a -> a.self().workerId()).toList();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onSignal(PostStop.class, signal -> onPostStop())
        .onMessage(Reply.class, this::onReply)
        .onMessage(Continue.class, this::onContinue)
        .onMessage(WorkersNow.class, this::onWorkersNow)
        .onMessage(
            ReputationsNow.class,
            m -> {
              reputations = Map.copyOf(m.byId());
              return this;
            })
        .onMessage(HostGone.class, m -> interrupt("worker " + m.workerId() + " stopped"))
        .onMessage(Deadline.class, this::onDeadline)
        .onMessage(Stop.class, m -> stop(m.reason()))
        .build();
  }

  /**
   * Starts preparing once {@code known} (the registry as last seen) holds the stage host of every
   * planned worker; until then a later registry snapshot may bring them (a scheduler node that just
   * started hears of the workers from their nodes' proxies).
   */
  private void locate(Map<String, WorkerCapabilities> known) {
    if (phase != Phase.LOCATING) {
      return;
    }
    Map<String, ActorRef<StageHostCommand>> found = new HashMap<>();
    for (String id : plannedWorkers()) {
      WorkerCapabilities caps = known.get(id);
      if (caps == null || caps.stageHost() == null) {
        return;
      }
      found.put(id, caps.stageHost());
    }
    hosts.putAll(found);
    // Each host once: a node may name one actor as the host of several of its workers.
    Set<ActorRef<StageHostCommand>> watched = new java.util.HashSet<>();
    hosts.forEach(
        (id, host) -> {
          if (watched.add(host)) {
            ctx.watchWith(host, new HostGone(id));
          }
        });
    prepare(stepsCompleted, checkpoint != null && stepsCompleted == checkpoint.step());
  }

  /** Asks every host to be ready at {@code resume}; restoring from the checkpoint if it must. */
  private void prepare(long resume, boolean restoreMatchesResume) {
    phase = Phase.PREPARING;
    resumeStep = resume;
    received.clear();
    List<CheckpointRef> restore = new ArrayList<>();
    if (checkpoint != null && (restoreMatchesResume || forcedRestore)) {
      for (CheckpointRecord.Shard shard : checkpoint.shards()) {
        restore.add(
            new CheckpointRef(
                store.downloadUrl(jobId, shard.sha256()), shard.sha256(), checkpoint.step()));
      }
    }
    for (StageAssignment a : assignments) {
      hosts
          .get(a.self().workerId())
          .tell(new StageHostCommand.Prepare(a, resume, restore, replies));
    }
    deadline.arm(settings.prepareTimeout(), "preparing the stages on " + plannedWorkers());
  }

  private Behavior<Command> onReply(Reply reply) {
    TaskMessage m = reply.message();
    if (probes.containsKey(m.jobId())) {
      return onProbed(m);
    }
    if (shadows != null && shadows.owns(m.jobId())) {
      return onShadowReply(m);
    }
    if (!m.jobId().equals(jobId)) {
      return this;
    }
    if (m instanceof StageFailed f) {
      return interrupt(
          "stage "
              + f.stage()
              + " replica "
              + f.replica()
              + " on worker "
              + f.workerId()
              + " failed at step "
              + f.step()
              + ": "
              + f.reason());
    }
    switch (phase) {
      case PREPARING -> {
        if (m instanceof StageReady r) {
          received.put(r.workerId(), r);
          if (received.size() == assignments.size()) {
            return onAllReady();
          }
        }
      }
      case STEPPING -> {
        if (m instanceof StepReport r && r.step() == step && hosts.containsKey(r.workerId())) {
          metrics.slotStepped(false);
          received.put(r.workerId(), r);
          if (received.size() == assignments.size() && (shadows == null || shadows.complete())) {
            return onStepDone();
          }
        }
      }
      case CHECKPOINTING -> {
        if (m instanceof CheckpointSaved s && s.step() == step) {
          received.put(s.workerId(), s);
          if (received.size() == plan.stages().size()) {
            return onCheckpointDone();
          }
        }
      }
      default -> {
        // A late or duplicate reply of an earlier phase: nothing to do.
      }
    }
    return this;
  }

  private Behavior<Command> onAllReady() {
    Set<Long> steps = new java.util.HashSet<>();
    for (TaskMessage m : received.values()) {
      steps.add(((StageReady) m).nextStep());
    }
    long restoreTo = checkpoint == null ? 0 : checkpoint.step();
    List<StepReport> ahead = new ArrayList<>();
    for (TaskMessage m : received.values()) {
      StepReport r = ((StageReady) m).lastReport();
      if (r != null && r.step() == resumeStep) {
        ahead.add(r);
      }
    }
    if (steps.size() == 1 && steps.contains(resumeStep)) {
      step = resumeStep;
    } else if (steps.size() == 1
        && steps.contains(resumeStep + 1)
        && ahead.size() == assignments.size()) {
      // Every stage ran step resumeStep but its reports never reached the journal (the
      // scheduler node that ordered it died): journal it from the reports the hosts kept.
      ctx.getLog()
          .info("Job {}: step {} ran before this driver started; journaling it", jobId, resumeStep);
      step = resumeStep;
      recovered.clear();
      ahead.forEach(r -> recovered.put(r.workerId(), r));
    } else if (!forcedRestore) {
      // Some stages kept their state and some did not: all go back to the checkpoint.
      forcedRestore = true;
      ctx.getLog()
          .info(
              "Job {}: stages are at steps {}; all restart from step {}", jobId, steps, restoreTo);
      prepare(restoreTo, true);
      return this;
    } else {
      return interrupt(
          "stages could not agree on a step to resume from: " + steps + ", wanted " + restoreTo);
    }
    probeLinks();
    return this;
  }

  /**
   * Measures the data-plane links this placement uses that this node has not measured yet (pipeline
   * neighbours and all-reduce ring neighbours), then starts. A probe that fails is logged; it does
   * not stop the job.
   */
  private void probeLinks() {
    phase = Phase.PROBING;
    int n = 0;
    for (StageAssignment a : assignments) {
      List<StageSlot> neighbours = new ArrayList<>();
      if (a.stage() + 1 < a.stages()) {
        neighbours.add(a.slot(a.stage() + 1, a.replica()));
      }
      if (a.replicas() > 1) {
        neighbours.add(a.slot(a.stage(), (a.replica() + 1) % a.replicas()));
      }
      StageSlot self = a.self();
      for (StageSlot peer : neighbours) {
        if (peer.workerId().equals(self.workerId())
            || links.measured(self.workerId(), peer.workerId())
            || probes.values().stream()
                .anyMatch(
                    p ->
                        (p[0].equals(self.workerId()) && p[1].equals(peer.workerId()))
                            || (p[1].equals(self.workerId()) && p[0].equals(peer.workerId())))) {
          continue;
        }
        String probeId = jobId + "-probe-" + ++n;
        probes.put(probeId, new String[] {self.workerId(), peer.workerId()});
        long timeout = settings.prepareTimeout().toMillis();
        hosts
            .get(peer.workerId())
            .tell(new StageHostCommand.ProbeLink(probeId, self, false, timeout, replies));
        hosts
            .get(self.workerId())
            .tell(new StageHostCommand.ProbeLink(probeId, peer, true, timeout, replies));
      }
    }
    if (probes.isEmpty()) {
      start();
    } else {
      deadline.arm(settings.prepareTimeout(), "measuring links");
    }
  }

  private Behavior<Command> onProbed(TaskMessage m) {
    String[] pair = probes.remove(m.jobId());
    if (m instanceof io.flotilla.protocol.task.LinkMeasured l) {
      links.record(
          pair[0],
          pair[1],
          new io.flotilla.scheduler.planner.Link(
              l.latencyMicros() / 1e6, Math.max(1, l.bytesPerSecond())));
      ctx.getLog()
          .info(
              "Link {} <-> {}: {} us, {} MB/s",
              pair[0],
              pair[1],
              l.latencyMicros(),
              Math.round(l.bytesPerSecond() / 1e6));
    } else if (m instanceof StageFailed f) {
      ctx.getLog().warn("Job {}: {}", jobId, f.reason());
    }
    if (probes.isEmpty() && phase == Phase.PROBING) {
      start();
    }
    return this;
  }

  private void start() {
    creditedUpTo = step;
    shadowVerified.clear();
    probes.clear();
    phase = Phase.STARTING;
    deadline.disarm();
    manager.tell(new Started(step));
  }

  private Behavior<Command> onContinue(Continue msg) {
    switch (phase) {
      case STARTING -> {
        if (!recovered.isEmpty()) {
          received.clear();
          received.putAll(recovered);
          recovered.clear();
          stepStartNanos = System.nanoTime();
          return onStepDone();
        }
        beginStep();
      }
      case RECORDING_STEP -> {
        long done = step + 1;
        if (done % checkpointInterval == 0 || done == totalSteps || shadowsWanted(done)) {
          saveCheckpoint(done);
        } else {
          step = done;
          beginStep();
        }
      }
      case RECORDING_CHECKPOINT -> {
        requestReceipts();
        creditVerified();
        if (step >= totalSteps) {
          phase = Phase.FINISHING;
          manager.tell(new Finished());
        } else {
          beginStep();
        }
      }
      case FINISHING -> {
        return stop("job completed");
      }
      default -> {
        // Nothing was waiting for the manager.
      }
    }
    return this;
  }

  /**
   * Starts step {@code step}: at a step that starts from a stored checkpoint (or from the seed),
   * the replicas that adaptive replication or a spot check picks get shadows first.
   */
  private void beginStep() {
    if (step < totalSteps && shadowPoint(step)) {
      shadows = planShadows(step, true);
      if (shadows != null) {
        phase = Phase.PREPARING_SHADOWS;
        shadows.runs().forEach(this::prepareShadow);
        deadline.arm(settings.prepareTimeout(), "preparing the shadows of step " + step);
        return;
      }
    }
    runStep();
  }

  /**
   * Whether shadows may run at {@code s}: the job asks for checks, and the stages' state at {@code
   * s} is a stored checkpoint's (or the seed's).
   */
  private boolean shadowPoint(long s) {
    return checked && (latest == null ? s == 0 : latest.step() == s);
  }

  private WorkerReputation reputationOf(String workerId) {
    WorkerReputation r = reputations.get(workerId);
    return r != null ? r : WorkerReputation.unknown(workerId);
  }

  /**
   * Whether step {@code s} gets shadows, which start from a checkpoint at {@code s}: a step between
   * the job's checkpoints that adaptive replication or a spot check picks is preceded by one.
   */
  private boolean shadowsWanted(long s) {
    return checked && s < totalSteps && planShadows(s, false) != null;
  }

  /**
   * Decides which replicas of step {@code s} get a shadow, and on which spare workers; null when
   * none does. The draws are a pure function of the job, the step and the workers, so deciding
   * twice gives the same answer.
   */
  private ShadowRuns planShadows(long s, boolean announce) {
    ShadowRuns planned = new ShadowRuns(jobId, s, assignments);
    for (int d = 0; d < plan.replicas(); d++) {
      // A shadow checks the replica's whole pipeline, so one draw decides for all its stages,
      // made for the least trusted of their workers: each task is checked at least as often as
      // its own worker's record asks, and a pipeline is not shadowed once per stage.
      StageAssignment least = null;
      double highest = -1;
      for (StageAssignment a : assignments) {
        double p = replication.replicationProbability(reputationOf(a.self().workerId()));
        if (a.replica() == d && p > highest) {
          least = a;
          highest = p;
        }
      }
      AdaptiveReplication.Kind why =
          replication
              .decide(
                  reputationOf(least.self().workerId()), new TaskKey(jobId, s, least.stage(), d))
              .kind();
      if (why != AdaptiveReplication.Kind.REPLICATED
          && why != AdaptiveReplication.Kind.SPOT_CHECKED) {
        continue;
      }
      int runs =
          why == AdaptiveReplication.Kind.REPLICATED
                  && spec.verification().redundancy()
                      == io.flotilla.protocol.job.RedundancyMode.FIXED
              ? spec.verification().factor() - 1
              : 1;
      for (int run = 0; run < runs; run++) {
        if (!addShadow(planned, d, s, announce, why)) {
          break;
        }
      }
    }
    return planned.runs().isEmpty() ? null : planned;
  }

  /** Adds a shadow of replica {@code d} to {@code planned}; false when there are no spares. */
  private boolean addShadow(
      ShadowRuns planned, int d, long s, boolean announce, AdaptiveReplication.Kind why) {
    List<String> spares = pickSpares(d, planned.used());
    if (spares == null) {
      if (announce) {
        logger.info(
            "Job {}: no {} spare workers of replica {}'s backends for a shadow of step {}; it"
                + " runs unchecked",
            jobId,
            plan.stages().size(),
            d,
            s);
      }
      return false;
    }
    planned.add(d, spares, usable);
    if (announce) {
      logger.info(
          "Job {}: step {} of replica {} {} on {}",
          jobId,
          s,
          d,
          why == AdaptiveReplication.Kind.REPLICATED ? "replicated" : "spot-checked",
          spares);
    }
    return true;
  }

  /**
   * Spare workers for a shadow of replica {@code d}, one per stage with the backend of the stage's
   * own worker: registered, not quarantined, with a known stage host, holding no slot of the job
   * and not in {@code taken}; the copies a fixed factor planned first, then workers the job does
   * not suspect, then the best-reputed. Null when there are not enough.
   */
  private List<String> pickSpares(int d, Set<String> taken) {
    List<String> candidates = new ArrayList<>();
    for (String id : usable.keySet()) {
      WorkerCapabilities caps = usable.get(id);
      if (caps == null
          || !caps.placeable()
          || hosts.containsKey(id)
          || taken.contains(id)
          || reputationOf(id).quarantined()) {
        continue;
      }
      candidates.add(id);
    }
    Set<String> copies = new java.util.HashSet<>(plan.workerIds());
    candidates.sort(
        java.util.Comparator.<String, Boolean>comparing(id -> !copies.contains(id))
            .thenComparing(suspects::contains)
            .thenComparingLong(id -> -reputationOf(id).consecutiveValid())
            .thenComparing(id -> id));
    List<String> picked = new ArrayList<>();
    for (StageAssignment a : assignments) {
      if (a.replica() != d) {
        continue;
      }
      String backend = workers.get(a.self().workerId()).backend();
      String spare =
          candidates.stream()
              .filter(id -> !picked.contains(id) && usable.get(id).backend().equals(backend))
              .findFirst()
              .orElse(null);
      if (spare == null) {
        return null;
      }
      picked.add(spare); // assignments run in stage order within a replica
    }
    return picked;
  }

  private void prepareShadow(ShadowRuns.Run run) {
    List<CheckpointRef> restore = new ArrayList<>();
    if (latest != null) {
      for (CheckpointRecord.Shard shard : latest.shards()) {
        restore.add(
            new CheckpointRef(
                store.downloadUrl(jobId, shard.sha256()), shard.sha256(), latest.step()));
      }
    }
    for (StageAssignment a : run.assignments()) {
      String id = a.self().workerId();
      ActorRef<StageHostCommand> host = usable.get(id).stageHost();
      shadowHosts.put(run.jobId() + "/" + id, host);
      host.tell(new StageHostCommand.Prepare(a, shadows.step, restore, replies));
    }
  }

  private void executeShadow(ShadowRuns.Run run) {
    RunStep order = new RunStep(run.jobId(), shadows.step, StepMode.SHADOW);
    for (String id : run.workers()) {
      shadowHosts.get(run.jobId() + "/" + id).tell(new StageHostCommand.Execute(order, replies));
    }
  }

  private Behavior<Command> onShadowReply(TaskMessage m) {
    ShadowRuns.Run run = shadows.run(m.jobId());
    if (m instanceof StageFailed f) {
      return shadowsFailed(
          "shadow " + f.workerId() + " of replica " + run.replica() + " failed: " + f.reason());
    }
    switch (phase) {
      case PREPARING_SHADOWS -> {
        if (m instanceof StageReady r) {
          shadows.ready(run, r.workerId());
          if (shadows.allReady()) {
            runStep();
          }
        }
      }
      case STEPPING -> {
        if (m instanceof StepReport r && r.step() == shadows.step) {
          metrics.slotStepped(true);
          shadows.report(r);
          if (received.size() == assignments.size() && shadows.complete()) {
            return onStepDone();
          }
        }
      }
      case TIE_BREAKING -> {
        if (m instanceof StageReady r && shadows.ready(run, r.workerId())) {
          executeShadow(run);
        } else if (m instanceof StepReport r && r.step() == shadows.step) {
          metrics.slotStepped(true);
          shadows.report(r);
          if (shadows.complete()) {
            return checkShadows();
          }
        }
      }
      default -> {
        // A late reply: nothing to do.
      }
    }
    return this;
  }

  /**
   * A shadow failed, left or did not answer in time. Before and during the step the shadows are
   * dropped and the step goes on unchecked; a tie-breaker that fails leaves a disagreement nobody
   * can settle, so the step is refused.
   */
  private Behavior<Command> shadowsFailed(String why) {
    logger.warn("Job {}: shadows of step {} dropped: {}", jobId, shadows.step, why);
    if (phase == Phase.TIE_BREAKING) {
      // Every worker that took part in a shadowed replica's step: the disagreement stands.
      List<String> suspects = new ArrayList<>();
      for (int d : shadows.replicas()) {
        ownRun(d).forEach(r -> suspects.add(r.workerId()));
        suspects.addAll(shadows.usedBy(d));
      }
      releaseShadows();
      manager.tell(new Suspects(suspects));
      return interrupt(
          "a shadow of step " + step + " disagreed and its tie-breaker failed: " + why);
    }
    releaseShadows();
    if (phase == Phase.PREPARING_SHADOWS) {
      runStep();
    } else if (phase == Phase.STEPPING && received.size() == assignments.size()) {
      return onStepDone();
    }
    return this;
  }

  private void releaseShadows() {
    if (shadows == null) {
      return;
    }
    for (ShadowRuns.Run run : shadows.runs()) {
      for (String id : run.workers()) {
        ActorRef<StageHostCommand> host = shadowHosts.get(run.jobId() + "/" + id);
        if (host != null) {
          host.tell(new StageHostCommand.Release(run.jobId(), "shadow check of step done"));
        }
      }
    }
    shadowHosts.clear();
    shadows = null;
  }

  /**
   * Compares every shadowed replica's run with its shadows ({@link ShadowCheck}). Replicas whose
   * runs differ without a majority first get a tie-breaker run on other spares (all at once), and
   * the comparison waits for them; only the final comparison is acted on, so each verdict is logged
   * and each dissenter recorded once: every judged position goes to the verification log, the
   * dissenters of a majority are recorded invalid, and a step whose own run dissents is refused.
   * Then the step is journaled.
   */
  private Behavior<Command> checkShadows() {
    if (shadows == null) {
      return recordStep();
    }
    Map<Integer, ShadowCheck.Result> results = new TreeMap<>();
    Set<String> breakers = new java.util.HashSet<>();
    for (int d : shadows.replicas()) {
      List<List<StepReport>> runs = new ArrayList<>();
      runs.add(ownRun(d));
      runs.addAll(shadows.reportsOf(d));
      ShadowCheck.Result result =
          ShadowCheck.compare(shadowVerifier, plan.stages().size(), plan.replicas() == 1, runs);
      results.put(d, result);
      ShadowCheck.Judged divergence = result.divergence();
      if (divergence != null && divergence.verdict() instanceof Verdict.NeedsTiebreak) {
        // The shadows of other replicas are done: they may break this replica's tie.
        Set<String> taken = new java.util.HashSet<>(shadows.usedBy(d));
        taken.addAll(breakers);
        List<String> spares = pickSpares(d, taken);
        if (spares != null) {
          logJudged(d, List.of(divergence));
          breakers.addAll(spares);
          logger.info("Job {}: {}; tie-breaker on {}", jobId, where(d, divergence), spares);
          prepareShadow(shadows.add(d, spares, usable));
        }
      }
    }
    if (!breakers.isEmpty()) {
      phase = Phase.TIE_BREAKING;
      deadline.arm(
          settings
              .prepareTimeout()
              .plus(settings.stepTimeout(Duration.ofNanos(slowestRecentStep()))),
          "the tie-breakers of step " + step);
      return this;
    }
    String refusal = null;
    Map<String, Long> agreed = new LinkedHashMap<>();
    for (var e : results.entrySet()) {
      int d = e.getKey();
      logJudged(d, e.getValue().judged());
      ShadowCheck.Judged divergence = e.getValue().divergence();
      if (divergence == null) {
        shadows
            .reportsOf(d)
            .forEach(run -> run.forEach(r -> agreed.merge(r.workerId(), 1L, Long::sum)));
        ownRun(d).forEach(r -> shadowVerified.merge(r.workerId(), 1L, Long::sum));
        continue;
      }
      String where = where(d, divergence);
      String own = divergence.executions().get(0).workerId();
      String why =
          switch (divergence.verdict()) {
            case Verdict.Accepted a -> {
              String reason = where + "; " + a.dissenting() + " disagree with " + a.agreeing();
              a.dissenting().forEach(w -> manager.tell(new Dissent(w, reason)));
              yield a.dissenting().contains(own) ? reason : null;
            }
            case Verdict.NeedsTiebreak t -> {
              manager.tell(new Suspects(t.workers()));
              yield where + " and no spare workers are left for a tie-breaker";
            }
            case Verdict.Rejected r -> {
              manager.tell(new Suspects(r.workers()));
              yield where + ": " + r.reason();
            }
          };
      refusal = refusal == null ? why : refusal;
    }
    releaseShadows();
    if (!agreed.isEmpty()) {
      manager.tell(new Verified(agreed));
    }
    if (refusal != null) {
      return interrupt(refusal);
    }
    return recordStep();
  }

  private void logJudged(int replica, List<ShadowCheck.Judged> judged) {
    for (ShadowCheck.Judged j : judged) {
      log(
          VerificationLog.Entry.of(
              new TaskKey(jobId, step, j.stage(), replica),
              j.executions(),
              j.verdict(),
              System.currentTimeMillis()));
    }
  }

  private String where(int replica, ShadowCheck.Judged divergence) {
    return "step "
        + step
        + " of replica "
        + replica
        + " differs from its shadow at stage "
        + divergence.stage()
        + " "
        + divergence.part().name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Credits the job's own workers, now that their results up to {@code step} are in a stored
   * checkpoint, with the results that were verified: every step since the last credit where the
   * replicas of a stage vote (D &gt; 1, synchronous), else the steps a shadow agreed with. A step
   * nobody checked earns no credit, so a worker earns less checking only through checked work.
   */
  private void creditVerified() {
    Map<String, Long> results = new LinkedHashMap<>();
    boolean votes =
        plan.replicas() > 1
            && spec.parallelism().gradientSync() != io.flotilla.protocol.job.GradientSync.DILOCO;
    for (String w : plannedWorkers()) {
      long n = votes ? step - creditedUpTo : shadowVerified.getOrDefault(w, 0L);
      if (n > 0) {
        results.put(w, n);
      }
    }
    creditedUpTo = step;
    shadowVerified.clear();
    if (!results.isEmpty()) {
      manager.tell(new Verified(results));
    }
  }

  /** The job's own traced reports of replica {@code d}, in stage order. */
  private List<StepReport> ownRun(int d) {
    List<StepReport> run = new ArrayList<>();
    for (int k = 0; k < plan.stages().size(); k++) {
      for (TaskMessage m : received.values()) {
        StepReport r = (StepReport) m;
        if (r.stage() == k && r.replica() == d) {
          run.add(r);
        }
      }
    }
    return run;
  }

  private long slowestRecentStep() {
    long slowest = 0;
    for (long nanos : recentStepNanos) {
      slowest = Math.max(slowest, nanos);
    }
    return slowest;
  }

  private void runStep() {
    if (step >= totalSteps) {
      // Only a driver that resumed a job whose last step was journaled gets here: the receipts
      // of its steps may have gone to a manager that crashed, so they are asked for again.
      requestReceipts();
      phase = Phase.FINISHING;
      manager.tell(new Finished());
      return;
    }
    phase = Phase.STEPPING;
    received.clear();
    stepStartNanos = System.nanoTime();
    boolean shadowed = shadows != null && shadows.step == step;
    RunStep order = new RunStep(jobId, step, shadowed ? StepMode.TRACED : StepMode.PLAIN);
    for (StageAssignment a : assignments) {
      hosts.get(a.self().workerId()).tell(new StageHostCommand.Execute(order, replies));
    }
    if (shadowed) {
      shadows.runs().forEach(this::executeShadow);
    }
    deadline.arm(settings.stepTimeout(Duration.ofNanos(slowestRecentStep())), "step " + step);
  }

  private Behavior<Command> onStepDone() {
    List<StepReport> reports = received.values().stream().map(StepReport.class::cast).toList();
    String disagreement = verifyReplicas(reports);
    if (disagreement != null) {
      return interrupt(disagreement);
    }
    return checkShadows();
  }

  /** Journals the step whose reports are in {@code received}: every check passed. */
  private Behavior<Command> recordStep() {
    long nanos = System.nanoTime() - stepStartNanos;
    for (TaskMessage m : received.values()) {
      StepReport r = (StepReport) m;
      // A step journaled from reports kept by the hosts was not timed here.
      nanos = Math.max(nanos, r.computeNanos() + r.idleNanos() + r.syncNanos());
    }
    recentStepNanos.addLast(nanos);
    if (recentStepNanos.size() > RECENT_STEPS) {
      recentStepNanos.removeFirst();
    }
    List<StepReport> reports = received.values().stream().map(StepReport.class::cast).toList();
    double lossSum = 0;
    int lossCount = 0;
    long tokens = 0;
    double bubble = 0;
    List<StepMetrics.SlotWork> work = new ArrayList<>();
    for (StepReport r : reports) {
      if (r.hasLoss()) {
        lossSum += r.loss();
        lossCount++;
      }
      if (r.stage() == 0) {
        tokens += r.tokens();
      }
      bubble += r.bubbleShare();
      work.add(
          new StepMetrics.SlotWork(
              r.workerId(),
              r.stage(),
              r.replica(),
              r.computeNanos(),
              r.idleNanos(),
              r.syncNanos(),
              r.examples()));
    }
    if (lossCount == 0 || !Double.isFinite(lossSum)) {
      return interrupt(
          "step " + step + " produced no finite loss (the last stage reported " + lossSum + ")");
    }
    StepReport first = reports.get(0);
    phase = Phase.RECORDING_STEP;
    deadline.disarm();
    manager.tell(
        new Stepped(
            new StepMetrics(
                step + 1,
                lossSum / lossCount,
                tokens,
                nanos,
                bubble / reports.size(),
                first.gradNorm(),
                first.lr(),
                work)));
    return this;
  }

  /**
   * Replicas of a stage hold bit-identical parameters after a synchronous step (the ring all-reduce
   * hands every replica the same sum), so their parameter digests must agree: each stage's replicas
   * are the redundant executions of one task for the {@link Verifier}. A replica outvoted by a
   * quorum of its stage is reported as an invalid result; without a quorum nobody is blamed. Either
   * way the step is not journaled and the run goes back to its last checkpoint, so only accepted
   * results enter the model. Every verdict goes to the job's verification log.
   *
   * @return why the step is refused, or null when every stage agrees
   */
  private String verifyReplicas(List<StepReport> reports) {
    if (spec.parallelism().gradientSync() == io.flotilla.protocol.job.GradientSync.DILOCO) {
      return null; // DiLoCo replicas differ between synchronisations by design
    }
    Map<Integer, List<Execution>> byStage = new TreeMap<>();
    for (StepReport r : reports) {
      byStage
          .computeIfAbsent(r.stage(), k -> new ArrayList<>())
          .add(Execution.ofDigest(r.workerId(), r.determinismClass(), r.parameterDigest()));
    }
    String refusal = null;
    for (var stage : byStage.entrySet()) {
      List<Execution> executions = stage.getValue();
      if (executions.size() < 2) {
        continue; // nothing to compare with; adaptive checks are the verifier's to schedule
      }
      Verdict verdict = verifier.verify(executions);
      log(
          VerificationLog.Entry.of(
              new TaskKey(jobId, step, stage.getKey(), 0),
              executions,
              verdict,
              System.currentTimeMillis()));
      if (refusal != null || verdict instanceof Verdict.Accepted a && a.dissenting().isEmpty()) {
        continue;
      }
      String prefix =
          "the replicas of stage "
              + stage.getKey()
              + " report different parameters after step "
              + step;
      if (verdict instanceof Verdict.Accepted a) {
        refusal = prefix + "; " + a.dissenting() + " disagree with " + a.agreeing();
        String reason = refusal;
        a.dissenting().forEach(w -> manager.tell(new Dissent(w, reason)));
      } else {
        refusal =
            prefix
                + " and none has a quorum: "
                + executions.stream().map(e -> e.workerId() + "=" + e.digest()).toList();
        manager.tell(
            new Suspects(executions.stream().map(Execution::workerId).distinct().toList()));
      }
    }
    return refusal;
  }

  /**
   * Appends to the verification log off the actor's thread, keeping the order of verdicts. Entries
   * that queue up while a write is under way go out together, with one flush.
   */
  private void log(VerificationLog.Entry entry) {
    logWriter.append(logFile, entry);
  }

  private Behavior<Command> onPostStop() {
    logWriter.close(logFile);
    return this;
  }

  private void saveCheckpoint(long done) {
    step = done;
    phase = Phase.CHECKPOINTING;
    received.clear();
    uploadUrls.clear();
    for (StageAssignment a : assignments) {
      if (a.replica() != 0) {
        continue;
      }
      String url = store.uploadUrl(jobId, done, a.stage());
      uploadUrls.put(a.self().workerId(), url);
      hosts
          .get(a.self().workerId())
          .tell(new StageHostCommand.SaveCheckpoint(jobId, done, url, replies));
    }
    deadline.arm(settings.checkpointTimeout(), "the checkpoint after step " + done);
  }

  private Behavior<Command> onCheckpointDone() {
    List<CheckpointRecord.Shard> shards = new ArrayList<>();
    for (TaskMessage m : received.values()) {
      CheckpointSaved s = (CheckpointSaved) m;
      String url = uploadUrls.get(s.workerId());
      String stored = url == null ? null : store.uploaded(url).orElse(null);
      if (!s.sha256().equals(stored)) {
        return interrupt(
            "worker "
                + s.workerId()
                + " reported checkpoint shard "
                + s.sha256()
                + " of stage "
                + s.stage()
                + " but the store received "
                + (stored == null ? "nothing" : stored));
      }
      shards.add(new CheckpointRecord.Shard(s.stage(), s.sha256(), s.bytes()));
    }
    phase = Phase.RECORDING_CHECKPOINT;
    deadline.disarm();
    latest = new CheckpointRecord(step, shards);
    manager.tell(new Checkpointed(latest));
    return this;
  }

  /**
   * Asks every stage host to sign receipts for the steps since the last ones paid, now that they
   * are in a stored checkpoint; the signed receipts go to the job manager, which has them paid. The
   * first time after the manager recovered, the steps since the job began, answered as reclaimed.
   */
  private void requestReceipts() {
    if (receipts == null || step <= receiptedSteps) {
      return;
    }
    long now = System.currentTimeMillis();
    for (StageAssignment a : assignments) {
      String worker = a.self().workerId();
      long megaflops =
          JobPayments.megaflopsPerStep(
              plan.stages().get(a.stage()), spec.training().microBatches());
      List<io.flotilla.protocol.identity.WorkReceipt> unsigned = new ArrayList<>();
      for (long s = receiptedSteps; s < step; s++) {
        unsigned.add(
            io.flotilla.protocol.identity.WorkReceipt.unsigned(
                jobId,
                StageHostCommand.SignReceipts.taskId(s, a.stage(), a.replica()),
                worker,
                megaflops,
                now));
      }
      hosts
          .get(worker)
          .tell(
              new StageHostCommand.SignReceipts(
                  jobId, unsigned, reclaimReceipts != null ? reclaimReceipts : receipts));
    }
    reclaimReceipts = null;
    receiptedSteps = step;
  }

  private Behavior<Command> onWorkersNow(WorkersNow msg) {
    usable = msg.workers();
    for (String id : plannedWorkers()) {
      if (!msg.workerIds().contains(id)) {
        return interrupt("worker " + id + " left the cluster");
      }
    }
    locate(usable);
    if (shadows != null) {
      for (ShadowRuns.Run run : shadows.runs()) {
        for (String id : run.workers()) {
          if (!usable.containsKey(id) && !shadows.complete(run)) {
            return shadowsFailed("worker " + id + " left the cluster");
          }
        }
      }
    }
    return this;
  }

  private Behavior<Command> onDeadline(Deadline fired) {
    String what = deadline.fired();
    if (what == null) {
      return this; // disarmed, or armed again for later since the timer started
    }
    if (phase == Phase.PROBING) {
      ctx.getLog().warn("Job {}: link probes unanswered, starting without them", jobId);
      start();
      return this;
    }
    if (shadows != null
        && (phase == Phase.PREPARING_SHADOWS
            || phase == Phase.TIE_BREAKING
            || (phase == Phase.STEPPING && received.size() == assignments.size()))) {
      return shadowsFailed("no answer for " + what + " in time");
    }
    List<String> missing = new ArrayList<>(plannedWorkers());
    missing.removeAll(received.keySet());
    if (phase == Phase.LOCATING) {
      missing.removeAll(hosts.keySet());
    }
    return interrupt("no answer for " + what + " in time from " + missing);
  }

  private Behavior<Command> interrupt(String reason) {
    if (phase == Phase.FINISHING) {
      return this;
    }
    ctx.getLog().warn("Job {} interrupted: {}", jobId, reason);
    manager.tell(new Interrupted(reason));
    return stop(reason);
  }

  private Behavior<Command> stop(String reason) {
    releaseShadows();
    for (ActorRef<StageHostCommand> host : hosts.values()) {
      host.tell(new StageHostCommand.Release(jobId, reason));
    }
    return Behaviors.stopped();
  }
}
