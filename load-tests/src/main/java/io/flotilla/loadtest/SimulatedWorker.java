package io.flotilla.loadtest;

import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.task.CheckpointRef;
import io.flotilla.protocol.task.CheckpointSaved;
import io.flotilla.protocol.task.LinkMeasured;
import io.flotilla.protocol.task.ReceiptsSigned;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.StageReady;
import io.flotilla.protocol.task.StepMode;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.fault.FaultMode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A simulated volunteer: an actor that speaks the real worker protocol without running the engine.
 * It publishes real {@link WorkerCapabilities} (with a data-plane endpoint and the address of its
 * real {@link io.flotilla.protocol.identity.WorkerIdentity}, and itself as the worker's stage host)
 * in the real worker registry, and answers every {@link StageHostCommand} as {@code
 * io.flotilla.worker.task.StageHost} does: prepare (keep, build or restore the slot, downloading
 * and checking checkpoint shards), execute (a step report after a compute time drawn from its
 * {@link ComputeTime}), save a checkpoint (a shard uploaded with an HTTP PUT), sign receipts (only
 * for tasks it computed for the job), probe links, release.
 *
 * <p>Its "parameters" after step s of stage k are a few numbers derived from (job, k, s), so honest
 * replicas of a stage report the same digest, as real ones do after the all-reduce. A faulty worker
 * applies the real {@link FaultInjector} of its {@link io.flotilla.worker.fault.FaultMode} to those
 * numbers before hashing them, so its digests are wrong in the way the mode makes them wrong (noise
 * differs per draw; flip-signs, scale and zeros agree among colluding workers; stale repeats the
 * previous step); delay holds the report back; crash stops the whole simulated host mid-task.
 *
 * <p>The simulator marks a corrupted report in the lowest bit of {@code computeNanos} (always 0 in
 * an honest report): the scheduler never looks at it, and a scenario finds any corrupted result
 * that reached the job's journal by it.
 */
public final class SimulatedWorker extends AbstractBehavior<Object> {

  /** Orders the simulator gives a worker (not part of the worker protocol). */
  public sealed interface Control extends NoSerializationVerificationNeeded {}

  /** Leave as a volunteer who stops {@code flotilla worker}: unregister, then stop. */
  public enum Leave implements Control {
    INSTANCE
  }

  private record Registered(String error) implements NoSerializationVerificationNeeded {}

  private record Computed(String jobId, long step, long generation)
      implements NoSerializationVerificationNeeded {}

  private record Built(StageHostCommand.Prepare order, long nextStep, String failure)
      implements NoSerializationVerificationNeeded {}

  private record Unregistered() implements NoSerializationVerificationNeeded {}

  /** The slot this worker holds of one job: what a StageExecutor would hold. */
  private static final class Slot {
    final StageAssignment assignment;
    long nextStep;
    StepReport lastReport;
    long generation;
    boolean running;
    StageHostCommand.Execute current;
    StageHostCommand.Prepare deferred;
    boolean lastCorrupt;
    long lastNanos;

    Slot(StageAssignment assignment, long nextStep) {
      this.assignment = assignment;
      this.nextStep = nextStep;
    }
  }

  /**
   * Creates the worker. {@code crashHost} is what the crash fault mode calls: it stops the
   * simulated host this worker lives on, as {@code Runtime.halt} stops a real worker's JVM.
   */
  public static Behavior<Object> create(
      WorkerProfile profile,
      String nodeAddress,
      ActorRef<WorkerRegistry.Command> registry,
      Simulation simulation,
      Runnable crashHost) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new SimulatedWorker(
                        ctx, timers, profile, nodeAddress, registry, simulation, crashHost)));
  }

  private final TimerScheduler<Object> timers;
  private final WorkerProfile profile;
  private final ActorRef<WorkerRegistry.Command> registry;
  private final Simulation sim;
  private final Runnable crashHost;
  private final FaultInjector faults;
  private final SplittableRandom random;
  private final Map<String, Slot> slots = new HashMap<>();
  private final Map<String, StageHostCommand.Prepare> preparing = new HashMap<>();

  /**
   * Per job, the tasks this worker computed, across rebuilds and, as a worker does for an hour,
   * after the job released it (a run is shorter than that): the steps run per (stage, replica), as
   * bits. A set of task-id strings grew by one string per step for the whole run, which the garbage
   * collector of the process that also runs the scheduler copied again and again.
   */
  private final Map<String, Map<Long, BitSet>> ranTasks = new HashMap<>();

  /** Every simulated worker computes alike, so their digests are comparable bit for bit. */
  static final String DETERMINISM_CLASS = "simulated";

  private final WorkerCapabilities capabilities;
  private long generations;

  private SimulatedWorker(
      ActorContext<Object> ctx,
      TimerScheduler<Object> timers,
      WorkerProfile profile,
      String nodeAddress,
      ActorRef<WorkerRegistry.Command> registry,
      Simulation sim,
      Runnable crashHost) {
    super(ctx);
    this.timers = timers;
    this.profile = profile;
    this.registry = registry;
    this.sim = sim;
    this.crashHost = crashHost;
    this.faults =
        new FaultInjector(
            profile.faults(),
            status -> crashHost.run(),
            d -> {
              // delay is simulated with a timer: the actor never sleeps
            });
    this.random = new SplittableRandom(profile.seed());
    int port = 20000 + Math.floorMod(profile.workerId().hashCode(), 40000);
    WorkerCapabilities honest =
        new WorkerCapabilities(
            profile.workerId(),
            nodeAddress,
            profile.cores(),
            profile.memoryBytes(),
            null,
            profile.cpuGflops(),
            "cpu",
            new DataPlaneEndpoint("127.0.0.1", port, 0, 1),
            profile.identity().address(),
            Map.of("simulated", "true"),
            System.currentTimeMillis(),
            ctx.getSelf().<StageHostCommand>narrow());
    this.capabilities = faults.capabilities(honest);
    register();
  }

  private void register() {
    getContext()
        .askWithStatus(
            Done.class,
            registry,
            Duration.ofSeconds(30),
            replyTo -> new WorkerRegistry.Register(capabilities, replyTo),
            (ok, error) -> new Registered(error == null ? null : error.getMessage()));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(StageHostCommand.Prepare.class, this::onPrepare)
        .onMessage(Built.class, this::onBuilt)
        .onMessage(StageHostCommand.Execute.class, this::onExecute)
        .onMessage(Computed.class, this::onComputed)
        .onMessage(StageHostCommand.SaveCheckpoint.class, this::onSaveCheckpoint)
        .onMessage(StageHostCommand.SignReceipts.class, this::onSignReceipts)
        .onMessage(StageHostCommand.ProbeLink.class, this::onProbeLink)
        .onMessage(StageHostCommand.Release.class, this::onRelease)
        .onMessage(Registered.class, this::onRegistered)
        .onMessageEquals(Leave.INSTANCE, this::onLeave)
        .onMessage(Unregistered.class, m -> Behaviors.stopped())
        .build();
  }

  private String workerId() {
    return profile.workerId();
  }

  private Behavior<Object> onRegistered(Registered r) {
    // A registration no replica confirmed yet is kept by the host's registry proxy and written to
    // every replica it finds; writing again would only add to the load that made it late.
    return this;
  }

  private Behavior<Object> onPrepare(StageHostCommand.Prepare order) {
    sim.metrics().otherOrder();
    StageAssignment a = order.assignment();
    sim.prepared(a.jobId(), System.nanoTime());
    if (!a.self().workerId().equals(workerId())) {
      order
          .replyTo()
          .tell(failure(a, order.resumeStep(), "slot belongs to " + a.self().workerId()));
      return this;
    }
    Slot current = slots.get(a.jobId());
    if (current != null && current.running) {
      current.deferred = order; // answered once the running step is done
      return this;
    }
    StepReport ahead = current == null ? null : current.lastReport;
    boolean oneAhead =
        ahead != null
            && ahead.step() == order.resumeStep()
            && current.nextStep == order.resumeStep() + 1;
    if (current != null
        && current.assignment.equals(a)
        && (current.nextStep == order.resumeStep() || oneAhead)) {
      reply(
          order.replyTo(),
          new StageReady(
              a.jobId(),
              a.stage(),
              a.replica(),
              workerId(),
              current.nextStep,
              true,
              oneAhead ? ahead : null),
          StepClock.Round.PREPARE,
          order.resumeStep(),
          a.slots().size());
      return this;
    }
    slots.remove(a.jobId());
    preparing.put(a.jobId(), order);
    CompletableFuture<Long> restored =
        order.restoreFrom().isEmpty()
            ? CompletableFuture.completedFuture(0L)
            : download(order.restoreFrom());
    getContext()
        .pipeToSelf(
            restored.thenCompose(
                step ->
                    CompletableFuture.supplyAsync(
                        () -> step,
                        CompletableFuture.delayedExecutor(
                            sim.prepareTime().toNanos(),
                            java.util.concurrent.TimeUnit.NANOSECONDS))),
            (step, error) ->
                error != null
                    ? new Built(order, -1, "cannot prepare the stage: " + rootMessage(error))
                    : new Built(order, step, null));
    return this;
  }

  /** Downloads every shard of the checkpoint and checks its hash; completes with its step. */
  private CompletableFuture<Long> download(List<CheckpointRef> refs) {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (CheckpointRef ref : refs) {
      all.add(
          sim.http()
              .sendAsync(
                  HttpRequest.newBuilder(URI.create(ref.url())).GET().build(),
                  HttpResponse.BodyHandlers.ofByteArray())
              .thenAccept(
                  response -> {
                    if (response.statusCode() != 200) {
                      throw new IllegalStateException(
                          "GET " + ref.url() + " answered " + response.statusCode());
                    }
                    String sha = sha256(response.body());
                    if (!sha.equals(ref.sha256())) {
                      throw new IllegalStateException(
                          "shard " + ref.url() + " hashes to " + sha + ", not " + ref.sha256());
                    }
                  }));
    }
    long step = refs.get(0).step();
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> step);
  }

  private Behavior<Object> onBuilt(Built built) {
    StageAssignment a = built.order().assignment();
    if (preparing.get(a.jobId()) != built.order()) {
      return this; // released or prepared again meanwhile
    }
    preparing.remove(a.jobId());
    if (built.failure() != null) {
      built.order().replyTo().tell(failure(a, built.order().resumeStep(), built.failure()));
      return this;
    }
    slots.put(a.jobId(), new Slot(a, built.nextStep()));
    sim.holds(workerId(), a.jobId(), true);
    reply(
        built.order().replyTo(),
        new StageReady(
            a.jobId(), a.stage(), a.replica(), workerId(), built.nextStep(), false, null),
        StepClock.Round.PREPARE,
        built.order().resumeStep(),
        a.slots().size());
    return this;
  }

  private Behavior<Object> onExecute(StageHostCommand.Execute order) {
    long now = System.nanoTime();
    String jobId = order.jobId();
    sim.metrics().dispatched(sim.clock().preceding(jobId), now);
    long step = order.order().step();
    sim.stepOrdered(jobId, step, now);
    Slot slot = slots.get(jobId);
    if (slot == null) {
      order
          .replyTo()
          .tell(
              new StageFailed(
                  jobId,
                  step,
                  -1,
                  -1,
                  workerId(),
                  "worker " + workerId() + " holds no stage of job " + jobId));
      return this;
    }
    if (slot.nextStep != step) {
      order
          .replyTo()
          .tell(
              failure(
                  slot.assignment,
                  step,
                  "asked to run step " + step + " but the stage is at step " + slot.nextStep));
      return this;
    }
    slot.running = true;
    slot.current = order;
    slot.generation = ++generations;
    long nanos = profile.compute().sampleNanos(random);
    boolean corrupt = faults.fires();
    if (corrupt && faults.mode() == FaultMode.DELAY) {
      nanos += profile.faults().delay().toNanos();
    } else if (corrupt && faults.mode() == FaultMode.CRASH) {
      faults.corrupt(jobId, new float[0]); // halts: the host goes down mid-task
      return this;
    }
    Computed done = new Computed(jobId, step, slot.generation);
    if (nanos == 0) {
      getContext().getSelf().tell(done);
    } else {
      timers.startSingleTimer(jobId, done, Duration.ofNanos(nanos));
    }
    slot.lastCorrupt = corrupt && corruptsDigests();
    slot.lastNanos = nanos;
    return this;
  }

  private boolean corruptsDigests() {
    return switch (faults.mode()) {
      case NOISE, FLIP_SIGNS, SCALE, ZEROS, STALE -> true;
      default -> false;
    };
  }

  private Behavior<Object> onComputed(Computed c) {
    Slot slot = slots.get(c.jobId());
    if (slot == null || slot.generation != c.generation() || !slot.running) {
      return this;
    }
    StageAssignment a = slot.assignment;
    // A shadow computes what the slot it shadows computes: the job's own result.
    String job = StepMode.shadowedJobId(c.jobId());
    StepMode mode = slot.current.order().mode();
    float[] parameters = parameters(job, a.stage(), c.step());
    String honest = digest(parameters);
    String tensor = c.jobId() + "/" + a.stage() + "/" + a.replica();
    if (slot.lastCorrupt) {
      faults.corrupt(tensor, parameters);
    } else if (faults.mode() == FaultMode.STALE) {
      // stale remembers every honest result too, to return it later
      faults.corrupt(tensor, parameters.clone());
    }
    String digest = digest(parameters);
    // A traced step also reports what the slot sent forward and backward (of its own replica's
    // data, so the replica is part of it); a corrupting worker's are wrong too.
    String forward = "";
    String backward = "";
    if (mode != StepMode.PLAIN) {
      float[] sent = parameters(job + "/" + a.replica(), a.stage(), c.step());
      if (!digest.equals(honest)) {
        for (int i = 0; i < sent.length; i++) {
          sent[i] += parameters[i];
        }
      }
      forward = digest(sent);
      backward = sha256((forward + digest(parameters)).getBytes(StandardCharsets.UTF_8));
    }
    boolean stopsEarly = mode == StepMode.SHADOW && a.replicas() > 1;
    // Only a result that differs is corrupted (stale has nothing to return the first time).
    boolean corrupt = !digest.equals(honest);
    if (corrupt) {
      sim.corrupted(c.jobId(), c.step(), workerId());
    }
    long computeNanos = (slot.lastNanos & ~1L) | (corrupt ? 1 : 0);
    StepReport report =
        new StepReport(
            c.jobId(),
            c.step(),
            a.stage(),
            a.replica(),
            workerId(),
            a.isLastStage() ? 2.0 / (1.0 + 0.01 * c.step()) : Double.NaN,
            a.spec().training().globalBatch() / a.replicas(),
            a.spec().training().globalBatch() / a.replicas(),
            computeNanos,
            0,
            0,
            1.0,
            a.spec().training().optimizer().lr(),
            stopsEarly ? "" : digest,
            stopsEarly ? "" : digest,
            DETERMINISM_CLASS,
            forward,
            backward);
    slot.running = false;
    slot.nextStep = c.step() + 1;
    ranTasks
        .computeIfAbsent(c.jobId(), j -> new HashMap<>())
        .computeIfAbsent(slotKey(a.stage(), a.replica()), k -> new BitSet())
        .set(Math.toIntExact(c.step()));
    slot.lastReport = report;
    ActorRef<TaskMessage> replyTo = slot.current.replyTo();
    slot.current = null;
    reply(replyTo, report, StepClock.Round.STEP, c.step(), a.slots().size());
    sim.metrics().reported(System.nanoTime());
    if (slot.deferred != null) {
      StageHostCommand.Prepare deferred = slot.deferred;
      slot.deferred = null;
      getContext().getSelf().tell(deferred);
    }
    return this;
  }

  private Behavior<Object> onSaveCheckpoint(StageHostCommand.SaveCheckpoint order) {
    sim.metrics().otherOrder();
    Slot slot = slots.get(order.jobId());
    if (slot == null) {
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
    StageAssignment a = slot.assignment;
    if (slot.nextStep != order.step()) {
      order
          .replyTo()
          .tell(
              failure(
                  a,
                  order.step(),
                  "asked to save the state after step "
                      + order.step()
                      + " but the stage has completed "
                      + slot.nextStep
                      + " steps"));
      return this;
    }
    byte[] shard = shard(order.jobId(), a.stage(), order.step());
    String sha = sha256(shard);
    ActorRef<TaskMessage> replyTo = order.replyTo();
    int stages = a.stages();
    sim.http()
        .sendAsync(
            HttpRequest.newBuilder(URI.create(order.uploadUrl()))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(shard))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .handle(
            (response, error) -> {
              TaskMessage reply;
              if (error != null || response.statusCode() / 100 != 2) {
                reply =
                    failure(
                        a,
                        order.step(),
                        "checkpoint failed: "
                            + (error != null
                                ? rootMessage(error)
                                : "PUT answered " + response.statusCode()));
              } else {
                reply =
                    new CheckpointSaved(
                        order.jobId(), order.step(), a.stage(), workerId(), sha, shard.length);
                sim.clock()
                    .replied(
                        order.jobId(),
                        StepClock.Round.CHECKPOINT,
                        order.step(),
                        stages,
                        System.nanoTime());
              }
              replyTo.tell(reply);
              return null;
            });
    return this;
  }

  private static long slotKey(int stage, int replica) {
    return ((long) stage << 32) | (replica & 0xffffffffL);
  }

  /** The ids of the tasks this worker ran for a job, as the receipts name them. */
  private static Set<String> taskIds(Map<Long, BitSet> ran) {
    Set<String> ids = new HashSet<>();
    for (Map.Entry<Long, BitSet> slot : ran.entrySet()) {
      int stage = (int) (slot.getKey() >> 32);
      int replica = (int) slot.getKey().longValue();
      slot.getValue().stream()
          .forEach(step -> ids.add(StageHostCommand.SignReceipts.taskId(step, stage, replica)));
    }
    return ids;
  }

  private Behavior<Object> onSignReceipts(StageHostCommand.SignReceipts order) {
    sim.metrics().otherOrder();
    Set<String> own = taskIds(ranTasks.getOrDefault(order.jobId(), Map.of()));
    List<WorkReceipt> mine = new ArrayList<>();
    int refused = 0;
    for (WorkReceipt r : order.receipts()) {
      if (r.jobId().equals(order.jobId())
          && r.workerId().equals(workerId())
          && own.contains(r.taskId())) {
        mine.add(r);
      } else {
        refused++;
      }
    }
    int refusedCount = refused;
    ActorRef<TaskMessage> replyTo = order.replyTo();
    var identity = profile.identity();
    String id = workerId();
    CompletableFuture.supplyAsync(
            () -> {
              List<WorkReceipt> signed = mine.stream().map(identity::sign).toList();
              signed.forEach(r -> sim.signed(r.jobId(), r.receiptId()));
              return new ReceiptsSigned(
                  order.jobId(), id, identity.registration(id), signed, refusedCount);
            },
            sim.signing())
        .thenAccept(replyTo::tell);
    return this;
  }

  private Behavior<Object> onProbeLink(StageHostCommand.ProbeLink order) {
    sim.metrics().otherOrder();
    if (order.initiator()) {
      order
          .replyTo()
          .tell(new LinkMeasured(order.probeId(), workerId(), order.peer().workerId(), 50, 1.25e9));
    }
    return this;
  }

  private Behavior<Object> onRelease(StageHostCommand.Release order) {
    sim.metrics().otherOrder();
    preparing.remove(order.jobId());
    Slot slot = slots.remove(order.jobId());
    if (slot != null) {
      timers.cancel(order.jobId());
      sim.holds(workerId(), order.jobId(), false);
    }
    return this;
  }

  private Behavior<Object> onLeave() {
    getContext()
        .askWithStatus(
            Done.class,
            registry,
            Duration.ofSeconds(10),
            replyTo -> new WorkerRegistry.Unregister(workerId(), replyTo),
            (ok, error) -> new Unregistered());
    return this;
  }

  private void reply(
      ActorRef<TaskMessage> replyTo, TaskMessage message, StepClock.Round round, long step, int n) {
    replyTo.tell(message);
    sim.clock().replied(message.jobId(), round, step, n, System.nanoTime());
  }

  private StageFailed failure(StageAssignment a, long step, String reason) {
    return new StageFailed(a.jobId(), step, a.stage(), a.replica(), workerId(), reason);
  }

  /** A stage's simulated parameters after {@code step}: the same on every honest replica. */
  static float[] parameters(String jobId, int stage, long step) {
    SplittableRandom r = new SplittableRandom(jobId.hashCode() * 31L + stage * 1_000_003L + step);
    float[] values = new float[8];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return values;
  }

  private static String digest(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4);
    for (float v : values) {
      b.putFloat(v);
    }
    return sha256(b.array());
  }

  /** A stage's checkpoint shard after {@code step}: small, and the same on every attempt. */
  static byte[] shard(String jobId, int stage, long step) {
    return ("flotilla simulated shard " + jobId + " stage " + stage + " step " + step)
        .getBytes(StandardCharsets.UTF_8);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String rootMessage(Throwable e) {
    while (e.getCause() != null) {
      e = e.getCause();
    }
    return e.toString();
  }
}
