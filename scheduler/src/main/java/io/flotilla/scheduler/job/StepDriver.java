package io.flotilla.scheduler.job;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.CheckpointRef;
import io.flotilla.protocol.task.CheckpointSaved;
import io.flotilla.protocol.task.RunStep;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.StageReady;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.verify.Execution;
import io.flotilla.scheduler.verify.TaskKey;
import io.flotilla.scheduler.verify.Tolerance;
import io.flotilla.scheduler.verify.Verdict;
import io.flotilla.scheduler.verify.VerificationLog;
import io.flotilla.scheduler.verify.Verifier;
import java.io.IOException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

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

  /** The workers in the registry changed; a planned worker missing from it stops the run. */
  record WorkersNow(Set<String> workerIds) implements Command {}

  /** Stop and release the hosts (the job was cancelled). */
  record Stop(String reason) implements Command {}

  private record HostsListed(Receptionist.Listing listing) implements Command {}

  private record Reply(TaskMessage message) implements Command {}

  private record HostGone(String workerId) implements Command {}

  private record Deadline(long generation, String what) implements Command {}

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
   * These workers' results up to a stored checkpoint agreed with the other replicas of their stages
   * (or had none to compare with): valid work for their reputation.
   */
  record Verified(List<String> workerIds) implements Fact {}

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
      ActorRef<TaskMessage> reclaimReceipts) {
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
                        reclaimReceipts);
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
    STEPPING,
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
  private long generation;
  private long resumeStep;
  private boolean forcedRestore;
  private long step;
  private long stepStartNanos;
  private final Map<String, TaskMessage> recovered = new LinkedHashMap<>();
  private final Verifier verifier;
  private final Executor blocking;
  private CompletableFuture<Void> logWrites = CompletableFuture.completedFuture(null);
  private VerificationLog verificationLog; // opened on the blocking dispatcher, used only there
  private final org.slf4j.Logger logger;

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
      ActorRef<TaskMessage> reclaimReceipts) {
    super(ctx);
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
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    ctx.getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                StageHostCommand.SERVICE_KEY,
                ctx.messageAdapter(Receptionist.Listing.class, HostsListed::new)));
    arm(settings.prepareTimeout(), "finding the stage hosts of " + plannedWorkers());
  }

  /** The P x D assignments of {@code plan}, with every slot's data-plane endpoint. */
  static List<StageAssignment> assignments(
      String jobId, JobSpec spec, PlanResult.Plan plan, Map<String, WorkerCapabilities> workers) {
    List<StageSlot> slots = new ArrayList<>();
    for (PlanResult.StagePlan stage : plan.stages()) {
      for (PlanResult.Placement p : stage.workers()) {
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
        .onMessage(HostsListed.class, this::onHostsListed)
        .onMessage(Reply.class, this::onReply)
        .onMessage(Continue.class, this::onContinue)
        .onMessage(WorkersNow.class, this::onWorkersNow)
        .onMessage(HostGone.class, m -> interrupt("worker " + m.workerId() + " stopped"))
        .onMessage(Deadline.class, this::onDeadline)
        .onMessage(Stop.class, m -> stop(m.reason()))
        .build();
  }

  private Behavior<Command> onHostsListed(HostsListed msg) {
    if (phase != Phase.LOCATING) {
      return this;
    }
    StageHosts listed =
        new StageHosts(msg.listing(), Cluster.get(ctx.getSystem()).selfMember().address());
    for (String id : plannedWorkers()) {
      ActorRef<StageHostCommand> host = listed.of(id, workers.get(id).nodeAddress());
      if (host == null) {
        return this; // not every host is known yet; the next listing may have it
      }
      hosts.put(id, host);
    }
    hosts.forEach((id, host) -> ctx.watchWith(host, new HostGone(id)));
    prepare(stepsCompleted, checkpoint != null && stepsCompleted == checkpoint.step());
    return this;
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
    arm(settings.prepareTimeout(), "preparing the stages on " + plannedWorkers());
  }

  private Behavior<Command> onReply(Reply reply) {
    TaskMessage m = reply.message();
    if (probes.containsKey(m.jobId())) {
      return onProbed(m);
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
          received.put(r.workerId(), r);
          if (received.size() == assignments.size()) {
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
      arm(settings.prepareTimeout(), "measuring links");
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
    probes.clear();
    phase = Phase.STARTING;
    timers.cancel("deadline");
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
        runStep();
      }
      case RECORDING_STEP -> {
        long done = step + 1;
        if (done % checkpointInterval == 0 || done == totalSteps) {
          saveCheckpoint(done);
        } else {
          step = done;
          runStep();
        }
      }
      case RECORDING_CHECKPOINT -> {
        requestReceipts();
        manager.tell(new Verified(plannedWorkers()));
        if (step >= totalSteps) {
          phase = Phase.FINISHING;
          manager.tell(new Finished());
        } else {
          runStep();
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

  private void runStep() {
    if (step >= totalSteps) {
      phase = Phase.FINISHING;
      manager.tell(new Finished());
      return;
    }
    phase = Phase.STEPPING;
    received.clear();
    stepStartNanos = System.nanoTime();
    RunStep order = new RunStep(jobId, step);
    for (StageAssignment a : assignments) {
      hosts.get(a.self().workerId()).tell(new StageHostCommand.Execute(order, replies));
    }
    long slowest = recentStepNanos.stream().mapToLong(Long::longValue).max().orElse(0);
    arm(settings.stepTimeout(Duration.ofNanos(slowest)), "step " + step);
  }

  private Behavior<Command> onStepDone() {
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
    String disagreement = verifyReplicas(reports);
    if (disagreement != null) {
      return interrupt(disagreement);
    }
    if (lossCount == 0 || !Double.isFinite(lossSum)) {
      return interrupt(
          "step " + step + " produced no finite loss (the last stage reported " + lossSum + ")");
    }
    StepReport first = reports.get(0);
    phase = Phase.RECORDING_STEP;
    timers.cancel("deadline");
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

  /** Appends to the verification log off the actor's thread, keeping the order of verdicts. */
  private void log(VerificationLog.Entry entry) {
    logWrites =
        logWrites.thenRunAsync(
            () -> {
              try {
                if (verificationLog == null) {
                  verificationLog = VerificationLog.open(store.verificationLog(jobId));
                }
                verificationLog.append(entry);
              } catch (IOException | RuntimeException e) {
                logger.warn("Job {}: cannot write the verification log: {}", jobId, e.toString());
              }
            },
            blocking);
  }

  private Behavior<Command> onPostStop() {
    logWrites.thenRunAsync(
        () -> {
          try {
            if (verificationLog != null) {
              verificationLog.close();
            }
          } catch (IOException e) {
            logger.warn("Job {}: cannot close the verification log: {}", jobId, e.toString());
          }
        },
        blocking);
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
    arm(settings.checkpointTimeout(), "the checkpoint after step " + done);
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
    timers.cancel("deadline");
    manager.tell(new Checkpointed(new CheckpointRecord(step, shards)));
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
    for (String id : plannedWorkers()) {
      if (!msg.workerIds().contains(id)) {
        return interrupt("worker " + id + " left the cluster");
      }
    }
    return this;
  }

  private Behavior<Command> onDeadline(Deadline d) {
    if (d.generation() != generation) {
      return this;
    }
    if (phase == Phase.PROBING) {
      ctx.getLog().warn("Job {}: link probes unanswered, starting without them", jobId);
      start();
      return this;
    }
    List<String> missing = new ArrayList<>(plannedWorkers());
    missing.removeAll(received.keySet());
    if (phase == Phase.LOCATING) {
      missing.removeAll(hosts.keySet());
    }
    return interrupt("no answer for " + d.what() + " in time from " + missing);
  }

  private void arm(Duration timeout, String what) {
    generation++;
    timers.startSingleTimer("deadline", new Deadline(generation, what), timeout);
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
    for (ActorRef<StageHostCommand> host : hosts.values()) {
      host.tell(new StageHostCommand.Release(jobId, reason));
    }
    return Behaviors.stopped();
  }
}
