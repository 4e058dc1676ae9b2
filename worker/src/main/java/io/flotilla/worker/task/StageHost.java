package io.flotilla.worker.task;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.identity.WorkerIdentity;
import io.flotilla.protocol.task.CheckpointRef;
import io.flotilla.protocol.task.CheckpointSaved;
import io.flotilla.protocol.task.ReceiptsSigned;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.StageReady;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.pipeline.PeerDirectory;
import io.flotilla.worker.pipeline.PipelineSettings;
import io.flotilla.worker.pipeline.StageCheckpoint;
import io.flotilla.worker.pipeline.StageExecutor;
import io.flotilla.worker.transport.TensorTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A worker's stage host: holds the worker's {@link StageExecutor}s, one per job, on the worker's
 * own data plane, and carries out the orders of job managers — prepare a slot (build it from the
 * spec's seed or restore a checkpoint shard), run a step, save a checkpoint, release the job. The
 * worker's agent publishes its reference in the worker's registry entry, where a job manager on any
 * scheduler node finds it.
 *
 * <p>Building a stage and moving checkpoints run on the blocking dispatcher; steps run on each
 * executor's own thread. Every failure is answered with a {@link StageFailed} naming the cause; the
 * host itself never stops because of a job.
 */
public final class StageHost extends AbstractBehavior<Object> {

  private record Built(
      StageHostCommand.Prepare order, Hosted hosted, long nextStep, Throwable failure)
      implements NoSerializationVerificationNeeded {}

  private record Hosted(
      StageExecutor executor,
      CpuBackend backend,
      AtomicReference<StepReport> lastReport,
      AtomicReference<CompletableFuture<?>> running) {
    Hosted(StageExecutor executor, CpuBackend backend) {
      this(
          executor,
          backend,
          new AtomicReference<>(),
          new AtomicReference<>(CompletableFuture.completedFuture(null)));
    }

    void close() {
      try {
        executor.close();
      } finally {
        backend.close();
      }
    }
  }

  /**
   * Creates the host of the worker whose data plane is {@code transport} and whose key {@code
   * identity} signs its receipts.
   */
  public static Behavior<StageHostCommand> create(
      TensorTransport transport,
      PipelineSettings pipeline,
      StageHostSettings settings,
      WorkerIdentity identity) {
    return create(transport, pipeline, settings, identity, FaultInjector.none());
  }

  /**
   * As {@link #create(TensorTransport, PipelineSettings, StageHostSettings, WorkerIdentity)} for a
   * worker that misbehaves on purpose: its stage executors apply {@code faults} to their results,
   * and it may falsify its step reports.
   */
  public static Behavior<StageHostCommand> create(
      TensorTransport transport,
      PipelineSettings pipeline,
      StageHostSettings settings,
      WorkerIdentity identity,
      FaultInjector faults) {
    Behavior<Object> host =
        Behaviors.setup(ctx -> new StageHost(ctx, transport, pipeline, settings, identity, faults));
    // Every log line of the host names its worker and, where the message concerns one, the job.
    return Behaviors.withMdc(
            Object.class, Map.of("workerId", transport.workerId()), StageHost::mdcOf, host)
        .narrow();
  }

  private static Map<String, String> mdcOf(Object message) {
    if (message instanceof StageHostCommand command) {
      return Map.of("jobId", command.jobId());
    }
    if (message instanceof Built built) {
      return Map.of("jobId", built.order().jobId());
    }
    return Map.of();
  }

  private final TensorTransport transport;
  private final PipelineSettings pipeline;
  private final StageHostSettings settings;
  private final CheckpointTransfer transfer;
  private final Executor blocking;
  private final Map<String, Hosted> hosted = new HashMap<>();
  private final Map<String, StageHostCommand.Prepare> preparing = new HashMap<>();

  /**
   * Per job, the tasks (step, stage, replica) this worker computed, kept across rebuilds of its
   * stage and for {@link #REMEMBER_RELEASED} after the job released it: a job manager that recovers
   * elsewhere asks for receipts of work done for its predecessor, and only these may be signed.
   */
  private final Map<String, Set<String>> ranTasks = new HashMap<>();

  /** When each job whose tasks are remembered released this worker, oldest first. */
  private final Map<String, Long> releasedAt = new java.util.LinkedHashMap<>();

  /** How long a worker remembers the tasks of a job that released it. */
  static final java.time.Duration REMEMBER_RELEASED = java.time.Duration.ofHours(1);

  private final WorkerIdentity identity;
  private final FaultInjector faults;
  private final java.util.concurrent.ExecutorService probes =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "flotilla-link-probe");
            t.setDaemon(true);
            return t;
          });

  private StageHost(
      ActorContext<Object> ctx,
      TensorTransport transport,
      PipelineSettings pipeline,
      StageHostSettings settings,
      WorkerIdentity identity,
      FaultInjector faults) {
    super(ctx);
    this.identity = identity;
    this.faults = faults;
    this.transport = transport;
    this.pipeline = pipeline;
    this.settings = settings;
    this.transfer = new CheckpointTransfer(settings.transferTimeout());
    this.blocking =
        ctx.getSystem()
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig("flotilla.worker.agent.blocking-dispatcher"));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(StageHostCommand.Prepare.class, this::onPrepare)
        .onMessage(Built.class, this::onBuilt)
        .onMessage(StageHostCommand.Execute.class, this::onExecute)
        .onMessage(StageHostCommand.SaveCheckpoint.class, this::onSaveCheckpoint)
        .onMessage(StageHostCommand.SignReceipts.class, this::onSignReceipts)
        .onMessage(StageHostCommand.ProbeLink.class, this::onProbeLink)
        .onMessage(StageHostCommand.Release.class, this::onRelease)
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  private String workerId() {
    return transport.workerId();
  }

  private Behavior<Object> onPrepare(StageHostCommand.Prepare order) {
    StageAssignment a = order.assignment();
    if (!a.self().workerId().equals(workerId())) {
      order
          .replyTo()
          .tell(failure(a, order.resumeStep(), "slot belongs to " + a.self().workerId()));
      return this;
    }
    Hosted current = hosted.get(a.jobId());
    if (current != null && !current.running().get().isDone()) {
      // A step ordered by an earlier job manager still runs: answer once it is done, so that
      // the executor's step count is final.
      var self = getContext().getSelf();
      current.running().get().whenComplete((r, e) -> self.tell(order));
      return this;
    }
    StepReport ahead = current == null ? null : current.lastReport().get();
    boolean oneAhead =
        ahead != null
            && ahead.step() == order.resumeStep()
            && current.executor().nextStep() == order.resumeStep() + 1;
    if (current != null
        && current.executor().assignment().equals(a)
        && (current.executor().nextStep() == order.resumeStep() || oneAhead)
        && !current.executor().failed()) {
      getContext()
          .getLog()
          .info(
              "Worker {}: keeps stage {} replica {} of job {} at step {}",
              workerId(),
              a.stage(),
              a.replica(),
              a.jobId(),
              order.resumeStep());
      order
          .replyTo()
          .tell(
              new StageReady(
                  a.jobId(),
                  a.stage(),
                  a.replica(),
                  workerId(),
                  current.executor().nextStep(),
                  true,
                  oneAhead ? ahead : null));
      return this;
    }
    if (current != null) {
      hosted.remove(a.jobId()).close();
    }
    preparing.put(a.jobId(), order);
    getContext()
        .getLog()
        .info(
            "Worker {}: building stage {} (layers {}..{}) replica {} of job {}{}",
            workerId(),
            a.stage(),
            a.firstLayer(),
            a.endLayer() - 1,
            a.replica(),
            a.jobId(),
            order.restoreFrom().isEmpty()
                ? ""
                : " from the checkpoint after step " + order.restoreFrom().get(0).step());
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(() -> build(order), blocking),
            (built, error) -> error != null ? new Built(order, null, -1, unwrap(error)) : built);
    return this;
  }

  private Built build(StageHostCommand.Prepare order) {
    CpuBackend backend = new CpuBackend(pipeline.computeThreads());
    StageExecutor executor = null;
    try {
      executor =
          new StageExecutor(
              order.assignment(),
              transport,
              PeerDirectory.udp(),
              backend,
              pipeline,
              System::nanoTime,
              faults);
      List<Path> files = new ArrayList<>();
      try {
        for (CheckpointRef ref : order.restoreFrom()) {
          files.add(transfer.download(ref, jobDirectory(order.jobId())));
        }
        if (!files.isEmpty()) {
          executor.restore(files);
        }
      } finally {
        for (Path f : files) {
          Files.deleteIfExists(f);
        }
      }
      return new Built(order, new Hosted(executor, backend), executor.nextStep(), null);
    } catch (Exception | Error e) {
      if (executor != null) {
        executor.close();
      }
      backend.close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Built(order, null, -1, e);
    }
  }

  private Behavior<Object> onBuilt(Built built) {
    StageAssignment a = built.order().assignment();
    if (preparing.get(a.jobId()) != built.order()) {
      // Released or re-prepared meanwhile: this build is stale.
      if (built.hosted() != null) {
        built.hosted().close();
      }
      return this;
    }
    preparing.remove(a.jobId());
    if (built.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "Worker {}: cannot prepare stage {} of job {}: {}",
              workerId(),
              a.stage(),
              a.jobId(),
              built.failure().toString());
      built
          .order()
          .replyTo()
          .tell(
              failure(
                  a,
                  built.order().resumeStep(),
                  "cannot prepare the stage: " + built.failure().getMessage()));
      return this;
    }
    hosted.put(a.jobId(), built.hosted());
    built.order().replyTo().tell(ready(a, built.nextStep(), false));
    return this;
  }

  private Behavior<Object> onExecute(StageHostCommand.Execute order) {
    Hosted h = hosted.get(order.jobId());
    if (h == null) {
      order
          .replyTo()
          .tell(
              new StageFailed(
                  order.jobId(),
                  order.order().step(),
                  -1,
                  -1,
                  workerId(),
                  "worker " + workerId() + " holds no stage of job " + order.jobId()));
      return this;
    }
    ActorRef<TaskMessage> replyTo = order.replyTo();
    Set<String> ran = ranTasks.computeIfAbsent(order.jobId(), j -> ConcurrentHashMap.newKeySet());
    releasedAt.remove(order.jobId());
    StageAssignment running = h.executor().assignment();
    h.running()
        .set(
            h.executor()
                .run(order.order())
                .thenAccept(
                    result -> {
                      TaskMessage reply = result;
                      if (result instanceof StepReport report) {
                        h.lastReport().set(report);
                        ran.add(
                            StageHostCommand.SignReceipts.taskId(
                                report.step(), running.stage(), running.replica()));
                        // The executor applies the modes that change results; this one lies
                        // in the report.
                        if (faults.active() && !faults.appliesToResults() && faults.fires()) {
                          reply = faults.report(report);
                        }
                      }
                      replyTo.tell(reply);
                    }));
    return this;
  }

  private Behavior<Object> onSaveCheckpoint(StageHostCommand.SaveCheckpoint order) {
    Hosted h = hosted.get(order.jobId());
    if (h == null) {
      order
          .replyTo()
          .tell(
              new StageFailed(
                  order.jobId(),
                  order.step(),
                  -1,
                  -1,
                  workerId(),
                  "worker " + workerId() + " holds no stage of job " + order.jobId()));
      return this;
    }
    StageExecutor executor = h.executor();
    StageAssignment a = executor.assignment();
    ActorRef<TaskMessage> replyTo = order.replyTo();
    if (executor.nextStep() != order.step()) {
      replyTo.tell(
          failure(
              a,
              order.step(),
              "asked to save the state after step "
                  + order.step()
                  + " but the stage has completed "
                  + executor.nextStep()
                  + " steps"));
      return this;
    }
    CompletableFuture.supplyAsync(() -> save(executor, order), blocking)
        .exceptionally(e -> failure(a, order.step(), "checkpoint failed: " + unwrap(e)))
        .thenAccept(replyTo::tell);
    return this;
  }

  private TaskMessage save(StageExecutor executor, StageHostCommand.SaveCheckpoint order) {
    StageAssignment a = executor.assignment();
    Path dir = jobDirectory(order.jobId());
    try {
      StageCheckpoint.Shard shard = executor.writeCheckpoint(dir);
      try {
        long bytes = Files.size(shard.file());
        transfer.upload(shard.file(), order.uploadUrl());
        return new CheckpointSaved(
            order.jobId(), order.step(), a.stage(), workerId(), shard.sha256(), bytes);
      } finally {
        Files.deleteIfExists(shard.file());
      }
    } catch (IOException e) {
      return failure(a, order.step(), "checkpoint failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failure(a, order.step(), "checkpoint interrupted");
    }
  }

  /**
   * Signs the receipts that are this worker's own work: its id, this job, and a task (step, stage,
   * replica) it computed for the job since it was first given a stage of it. Signing runs on the
   * blocking dispatcher.
   */
  private Behavior<Object> onSignReceipts(StageHostCommand.SignReceipts order) {
    Set<String> ownTasks = ranTasks.getOrDefault(order.jobId(), Set.of());
    List<WorkReceipt> mine = new ArrayList<>();
    int refused = 0;
    for (WorkReceipt r : order.receipts()) {
      boolean own =
          r.jobId().equals(order.jobId())
              && r.workerId().equals(workerId())
              && ownTasks.contains(r.taskId());
      if (own) {
        mine.add(r);
      } else {
        refused++;
      }
    }
    if (refused > 0) {
      getContext()
          .getLog()
          .warn(
              "Worker {}: refused to sign {} of {} receipts of job {} (not work this worker did)",
              workerId(),
              refused,
              order.receipts().size(),
              order.jobId());
    }
    int refusedCount = refused;
    ActorRef<TaskMessage> replyTo = order.replyTo();
    CompletableFuture.supplyAsync(
            () ->
                new ReceiptsSigned(
                    order.jobId(),
                    workerId(),
                    identity.registration(workerId()),
                    mine.stream().map(identity::sign).toList(),
                    refusedCount),
            blocking)
        .thenAccept(replyTo::tell);
    return this;
  }

  /** Measures (or answers the measurement of) the data-plane link to a peer, off this thread. */
  private Behavior<Object> onProbeLink(StageHostCommand.ProbeLink order) {
    java.time.Duration timeout = java.time.Duration.ofMillis(order.timeoutMillis());
    ActorRef<TaskMessage> replyTo = order.replyTo();
    CompletableFuture.runAsync(
        () -> {
          try {
            if (order.initiator()) {
              replyTo.tell(LinkProbe.initiate(transport, order.probeId(), order.peer(), timeout));
            } else {
              LinkProbe.respond(transport, order.probeId(), order.peer(), timeout);
            }
          } catch (RuntimeException e) {
            if (order.initiator()) {
              replyTo.tell(
                  new StageFailed(
                      order.probeId(),
                      0,
                      -1,
                      -1,
                      workerId(),
                      "link probe to " + order.peer().workerId() + " failed: " + unwrap(e)));
            }
          } finally {
            transport.release(order.probeId());
          }
        },
        probes);
    return this;
  }

  private Behavior<Object> onRelease(StageHostCommand.Release order) {
    preparing.remove(order.jobId());
    forgetReleasedBefore(System.nanoTime() - REMEMBER_RELEASED.toNanos());
    if (ranTasks.containsKey(order.jobId())) {
      releasedAt.remove(order.jobId());
      releasedAt.put(order.jobId(), System.nanoTime());
    }
    Hosted h = hosted.remove(order.jobId());
    if (h != null) {
      getContext()
          .getLog()
          .info("Worker {}: released job {} ({})", workerId(), order.jobId(), order.reason());
      h.close();
    }
    return this;
  }

  private void forgetReleasedBefore(long nanos) {
    for (var it = releasedAt.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (e.getValue() - nanos >= 0) {
        return;
      }
      it.remove();
      if (!hosted.containsKey(e.getKey()) && !preparing.containsKey(e.getKey())) {
        ranTasks.remove(e.getKey());
      }
    }
  }

  private Behavior<Object> onStop() {
    probes.shutdownNow();
    hosted.values().forEach(Hosted::close);
    hosted.clear();
    return this;
  }

  private Path jobDirectory(String jobId) {
    return settings
        .workDirectory()
        .resolve("flotilla-" + workerId())
        .resolve(jobId.replaceAll("[^A-Za-z0-9._-]", "_"));
  }

  private StageReady ready(StageAssignment a, long nextStep, boolean reattached) {
    return new StageReady(
        a.jobId(), a.stage(), a.replica(), workerId(), nextStep, reattached, null);
  }

  private StageFailed failure(StageAssignment a, long step, String reason) {
    return new StageFailed(a.jobId(), step, a.stage(), a.replica(), workerId(), reason);
  }

  private static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
