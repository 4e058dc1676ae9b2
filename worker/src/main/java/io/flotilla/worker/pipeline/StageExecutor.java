package io.flotilla.worker.pipeline;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.checkpoint.Safetensors;
import io.flotilla.engine.data.Batch;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.model.Stage;
import io.flotilla.engine.nn.CrossEntropyLoss;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.optim.AdamW;
import io.flotilla.engine.optim.LrSchedule;
import io.flotilla.engine.tensor.Tensor;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.engine.train.Trainer;
import io.flotilla.protocol.job.GradientSync;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.RunStep;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepMode;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.worker.collective.CollectiveException;
import io.flotilla.worker.collective.Compression;
import io.flotilla.worker.collective.ReplicaGroup;
import io.flotilla.worker.collective.RingAllReduce;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.fault.FaultTarget;
import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.ReceivedTensor;
import io.flotilla.worker.transport.TensorDtype;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKey;
import io.flotilla.worker.transport.TensorKind;
import io.flotilla.worker.transport.TensorTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Runs one (stage, replica) slot of a training job: the stage's layers, its AdamW state and its
 * side of every exchange with pipeline neighbours and replicas.
 *
 * <p>Every executor builds the whole model from the spec's seed and keeps its layers, so all
 * replicas start bit-identical. {@link #runStep} runs one step:
 *
 * <ol>
 *   <li>the micro-batch schedule ({@link MicroBatchSchedule}): the first stage reads its shard of
 *       the global batch (replica d, micro-batch i), the last stage reads the targets of the same
 *       shard and computes the loss; activations go forward and gradients backward over the data
 *       plane ({@link TensorKind#ACTIVATION}/{@link TensorKind#GRADIENT} keyed by job, step,
 *       micro-batch and sending stage). Layers keep the activations of one pass only, so a backward
 *       whose micro-batch is not the latest forward first recomputes that forward from the saved
 *       stage input with the same dropout seed (bit-identical activations);
 *   <li>synchronous mode: a ring all-reduce of the stage's gradients among the D replicas;
 *   <li>GPT with P &gt; 1: the first and last stage exchange and add their halves of the gradient
 *       of the token table shared by the embedding and the tied head;
 *   <li>gradient clipping by the global norm over all stages: each stage sends its squared norm to
 *       the other stages of its replica and every stage adds them in stage order;
 *   <li>the AdamW update with the scheduled learning rate;
 *   <li>DiLoCo mode: every H steps, the replicas all-reduce their parameter deltas since the last
 *       synchronisation and apply an outer SGD step with Nesterov momentum ({@link
 *       DilocoOuterOptimizer}).
 * </ol>
 *
 * <p>Failures never hang: every receive has a deadline, a peer that goes away fails the receive at
 * once, and a failing executor tells its neighbours (an abort frame), so the whole pipeline fails
 * within one timeout with a {@link StageExecutionException} naming the peer.
 *
 * <p>Not thread-safe: call {@link #runStep} from one thread at a time, or use {@link
 * #runStepAsync}, which runs steps on the executor's own thread.
 */
public final class StageExecutor implements AutoCloseable {
  /** Name of the token table shared by a GPT's embedding and its tied head. */
  static final String TIED_PARAMETER = "transformer.wte.weight";

  /** Micro-batch field of the tied-weight gradient exchange between the first and last stage. */
  static final int TIED_MICRO_BATCH = Integer.MAX_VALUE - 1;

  /** Micro-batch field of the squared-norm exchange among the stages of a replica. */
  static final int NORM_MICRO_BATCH = Integer.MAX_VALUE - 2;

  private static final int GRADIENT_BUCKET = 0;
  private static final int TIED_GRADIENT_BUCKET = 1;
  private static final int DELTA_BUCKET = 2;
  private static final int TIED_DELTA_BUCKET = 3;
  private static final float[] NO_VALUES = new float[0];

  private final StageAssignment assignment;
  private final JobSpec spec;
  private final TensorTransport transport;
  private final ComputeBackend backend;
  private final Duration timeout;
  private final LongSupplier nanoClock;
  private final String jobId;
  private final int stageIndex;
  private final int stages;
  private final int replica;
  private final int replicas;
  private final int microBatches;
  private final int microBatchSize;
  private final long seed;
  private final boolean diloco;
  private final Dataset data;
  private final Stage stage;
  private final List<Parameter> parameters;
  private final Parameter tied;
  private final List<Parameter> untied;
  private final AdamW optimizer;
  private final LrSchedule schedule;
  private final CrossEntropyLoss loss;
  private final Batch batch = new Batch();
  private final List<MicroBatchSchedule.Pass> passes;
  private final List<DataPlanePeer> pipeline;
  private final ReplicaGroup ring;
  private final RingAllReduce allReduce;
  private final DilocoOuterOptimizer outer;
  private final float gradClip;
  private final FaultInjector faults;
  private volatile boolean closed;
  private ExecutorService thread;
  private long nextStep;
  private StageExecutionException failure;

  // Per-step state.
  private Tensor[] inputs;
  private Tensor[] targets;
  private int[][] outputShapes;
  private int lastForward;
  private double lossSum;
  private long idleNanos;
  private TensorDigest forwardTrace;
  private TensorDigest backwardTrace;
  private final List<CompletableFuture<Void>> sends = new ArrayList<>();
  private final ByteBuffer[] sendBuffers;
  private final ByteBuffer[] reduceBuffers = new ByteBuffer[4];

  /**
   * An executor for {@code assignment}, sending and receiving through {@code transport} (whose
   * worker id must be the assignment's own slot), reaching other slots through {@code peers},
   * computing on {@code backend} (the caller closes it).
   *
   * @throws IllegalArgumentException when the assignment and the transport disagree or the model
   *     cannot be built (the message says why)
   * @throws UncheckedIOException when the dataset or the initial checkpoint cannot be read
   */
  public StageExecutor(
      StageAssignment assignment,
      TensorTransport transport,
      PeerDirectory peers,
      ComputeBackend backend,
      PipelineSettings settings,
      LongSupplier nanoClock) {
    this(assignment, transport, peers, backend, settings, nanoClock, FaultInjector.none());
  }

  /**
   * As {@link #StageExecutor(StageAssignment, TensorTransport, PeerDirectory, ComputeBackend,
   * PipelineSettings, LongSupplier)} for a worker that misbehaves on purpose: {@code faults} is
   * drawn once per step and, when it fires, delays or halts the step or corrupts the stage's
   * parameters after the update (see {@link FaultInjector}).
   */
  public StageExecutor(
      StageAssignment assignment,
      TensorTransport transport,
      PeerDirectory peers,
      ComputeBackend backend,
      PipelineSettings settings,
      LongSupplier nanoClock,
      FaultInjector faults) {
    this.faults = Objects.requireNonNull(faults, "faults");
    this.assignment = assignment;
    this.spec = assignment.spec();
    this.transport = transport;
    this.backend = backend;
    this.timeout = settings.receiveTimeout();
    this.nanoClock = nanoClock;
    this.jobId = assignment.jobId();
    this.stageIndex = assignment.stage();
    this.stages = assignment.stages();
    this.replica = assignment.replica();
    this.replicas = assignment.replicas();
    this.microBatches = spec.training().microBatches();
    this.microBatchSize = spec.microBatchSize();
    this.seed = spec.training().seed();
    this.diloco = spec.parallelism().gradientSync() == GradientSync.DILOCO;
    StageSlot self = assignment.self();
    if (!self.workerId().equals(transport.workerId())) {
      throw new IllegalArgumentException(
          "slot ("
              + stageIndex
              + ", "
              + replica
              + ") of job "
              + jobId
              + " belongs to worker "
              + self.workerId()
              + ", not to this transport's worker "
              + transport.workerId());
    }
    if (microBatchSize < 1) {
      throw new IllegalArgumentException(
          "training.global_batch "
              + spec.training().globalBatch()
              + " is smaller than replicas x micro_batches");
    }
    JobConfig job = EngineJob.forReplica(spec);
    this.data = LocalTrainer.openDataset(job);
    Model model;
    try {
      model = LocalTrainer.buildModel(backend, job, data);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the model of job " + jobId, e);
    }
    this.stage = model.slice(assignment.firstLayer(), assignment.endLayer());
    this.parameters = stage.parameters();
    Parameter tiedParameter = null;
    if (model.config().isGpt() && stages > 1 && (stageIndex == 0 || stageIndex == stages - 1)) {
      for (Parameter p : parameters) {
        if (p.name().equals(TIED_PARAMETER)) {
          tiedParameter = p;
        }
      }
    }
    this.tied = tiedParameter;
    this.untied = parameters.stream().filter(p -> p != tied).toList();
    this.optimizer = new AdamW(backend, parameters, job.training().optimizer());
    this.gradClip = job.training().optimizer().gradClip();
    this.schedule = EngineJob.schedule(job);
    this.loss = new CrossEntropyLoss(backend);
    this.passes =
        MicroBatchSchedule.passes(spec.parallelism().schedule(), stageIndex, stages, microBatches);
    this.pipeline = assignment.pipeline().stream().map(peers::peerOf).toList();
    this.sendBuffers = new ByteBuffer[2 * microBatches + 1 + stages];
    List<DataPlanePeer> members = assignment.replicaRing().stream().map(peers::peerOf).toList();
    this.ring = new ReplicaGroup(jobId, stageIndex, members, replica);
    this.allReduce = new RingAllReduce(transport, timeout);
    this.outer =
        diloco
            ? new DilocoOuterOptimizer(
                parameters,
                (float) spec.parallelism().diloco().outerLr(),
                (float) spec.parallelism().diloco().outerMomentum())
            : null;
  }

  /** The assignment this executor runs. */
  public StageAssignment assignment() {
    return assignment;
  }

  /** This stage's parameters (live tensors; read them only between steps). */
  public List<Parameter> parameters() {
    return parameters;
  }

  /** The stage's optimizer (moments and step count, for checkpoints). */
  public AdamW optimizer() {
    return optimizer;
  }

  /** The next step this executor expects. */
  public long nextStep() {
    return nextStep;
  }

  /** Whether a step failed, leaving partial state: such an executor refuses further steps. */
  public boolean failed() {
    return failure != null;
  }

  /** Runs {@link #runStep} on this executor's own thread. */
  public CompletableFuture<StepReport> runStepAsync(long step) {
    return runStepAsync(step, StepMode.PLAIN);
  }

  /** Runs {@link #runStep(long, StepMode)} on this executor's own thread. */
  public synchronized CompletableFuture<StepReport> runStepAsync(long step, StepMode mode) {
    if (thread == null) {
      thread =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t =
                    new Thread(r, "flotilla-stage-" + jobId + "-" + stageIndex + "-" + replica);
                t.setDaemon(true);
                return t;
              });
    }
    return CompletableFuture.supplyAsync(() -> runStep(step, mode), thread);
  }

  /**
   * Carries out a scheduler's order on the executor's own thread. Completes with the {@link
   * StepReport}, or with a {@link StageFailed} naming the cause (a peer, a timeout, an order for
   * another job or out of sequence); never exceptionally, so an actor can pipe the result to itself
   * and forward it as is.
   */
  public CompletableFuture<TaskMessage> run(RunStep order) {
    if (!order.jobId().equals(jobId)) {
      return CompletableFuture.completedFuture(
          new StageFailed(
              order.jobId(),
              order.step(),
              stageIndex,
              replica,
              transport.workerId(),
              "this executor runs job " + jobId + ", not job " + order.jobId()));
    }
    return runStepAsync(order.step(), order.mode())
        .handle((report, error) -> error == null ? report : failed(order.step(), error));
  }

  /**
   * Runs training step {@code step}; steps must run in order from 0. After a failure the executor's
   * state is partial (gradients, possibly an update) and it refuses further steps.
   *
   * @return what this stage computed
   * @throws StageExecutionException when a peer fails, times out or sends a bad tensor, naming it
   */
  public StepReport runStep(long step) {
    return runStep(step, StepMode.PLAIN);
  }

  /**
   * Runs training step {@code step} in {@code mode}: traced steps report the digests of what the
   * stage sent and of its local gradient; a shadow of a slot with replicas stops before the
   * all-reduce, after which the executor refuses further steps.
   */
  public StepReport runStep(long step, StepMode mode) {
    if (failure != null) {
      throw new IllegalStateException(
          "this executor failed at step "
              + failure.step()
              + " and its state is partial; build a new one (from a checkpoint): "
              + failure.getMessage(),
          failure);
    }
    if (step != nextStep) {
      throw new IllegalStateException(
          "stage "
              + stageIndex
              + " replica "
              + replica
              + " of job "
              + jobId
              + " expects step "
              + nextStep
              + ", was asked for step "
              + step);
    }
    if (step >= spec.training().steps()) {
      throw new IllegalArgumentException(
          "job "
              + jobId
              + " has "
              + spec.training().steps()
              + " steps; step "
              + step
              + " is past the end");
    }
    try {
      StepReport report = doStep(step, mode);
      if (mode == StepMode.SHADOW && stopsBeforeAllReduce()) {
        failure =
            new StageExecutionException(
                step,
                where(step)
                    + ": a shadow's step ends before the all-reduce and leaves the stage without"
                    + " its update; build a new executor",
                null);
      } else {
        nextStep++;
      }
      return report;
    } catch (RuntimeException e) {
      failure = wrap(step, e);
      if (!closed) {
        // An executor closed by its host (the job released or rebuilt) tells nobody: its
        // neighbours are released or rebuilt too, and an abort arriving after they were rebuilt
        // would fail the next run of the job at once, and that one's the next, and so on.
        abortNeighbours(failure.getMessage());
      }
      throw failure;
    } finally {
      inputs = null;
      targets = null;
    }
  }

  /** The control message that reports {@code error} of {@code step} to the scheduler. */
  public StageFailed failed(long step, Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return new StageFailed(
        jobId, step, stageIndex, replica, transport.workerId(), String.valueOf(e.getMessage()));
  }

  /** Whether a shadow of this slot stops before the all-reduce (replicas or DiLoCo). */
  private boolean stopsBeforeAllReduce() {
    return replicas > 1 || diloco;
  }

  private StepReport doStep(long step, StepMode mode) {
    boolean faulty = faults.appliesToResults() && faults.fires();
    boolean gradientFault =
        faulty && faults.changesValues() && faults.target() == FaultTarget.GRADIENTS;
    forwardTrace = mode == StepMode.PLAIN ? null : new TensorDigest();
    backwardTrace = mode == StepMode.PLAIN ? null : new TensorDigest();
    long start = nanoClock.getAsLong();
    stage.zeroGrad();
    inputs = new Tensor[microBatches];
    targets = new Tensor[microBatches];
    outputShapes = new int[microBatches][];
    lastForward = -1;
    lossSum = 0;
    idleNanos = 0;
    sends.clear();
    for (MicroBatchSchedule.Pass pass : passes) {
      if (pass.forward()) {
        forward(step, pass.microBatch());
      } else {
        backward(step, pass.microBatch());
      }
    }
    awaitSends(step);
    if (faulty && !faults.changesValues()) {
      faults.corrupt(slotName(), NO_VALUES); // delay or crash, in the middle of the step
    }
    if (gradientFault) {
      corrupt(Parameter::grad, "/grad");
    }
    String forwardDigest = forwardTrace == null ? "" : forwardTrace.hex();
    String backwardDigest = "";
    if (backwardTrace != null) {
      for (Parameter p : parameters) {
        backwardTrace.add(p.grad());
      }
      backwardDigest = backwardTrace.hex();
    }
    forwardTrace = null;
    backwardTrace = null;
    long scheduleEnd = nanoClock.getAsLong();
    long scheduleIdle = idleNanos;
    if (mode == StepMode.SHADOW && stopsBeforeAllReduce()) {
      return report(
          step,
          "",
          "",
          forwardDigest,
          backwardDigest,
          Double.NaN,
          0,
          start,
          scheduleEnd,
          scheduleIdle,
          scheduleEnd);
    }

    if (!diloco) {
      allReduce(step, untied, GRADIENT_BUCKET, Parameter::grad);
      if (tied != null) {
        allReduce(step, List.of(tied), TIED_GRADIENT_BUCKET, Parameter::grad);
      }
    }
    exchangeTiedGradient(step);
    String gradientDigest = TensorDigest.of(parameters, Parameter::grad);
    double norm = globalGradNorm(step);
    if (gradClip > 0) {
      double coeff = gradClip / (norm + 1e-6);
      if (coeff < 1) {
        for (Parameter p : parameters) {
          backend.scale(p.grad(), (float) coeff, p.grad(), p.size());
        }
      }
    }
    float lr = schedule.lr(Math.toIntExact(step));
    optimizer.step(lr);
    if (diloco && (step + 1) % spec.parallelism().diloco().innerSteps() == 0) {
      outerSync(step);
    }
    awaitSends(step);
    if (faulty && faults.changesValues() && !gradientFault) {
      corrupt(Parameter::value, "");
    }
    String parameterDigest = TensorDigest.of(parameters, Parameter::value);
    return report(
        step,
        gradientDigest,
        parameterDigest,
        forwardDigest,
        backwardDigest,
        norm,
        lr,
        start,
        scheduleEnd,
        scheduleIdle,
        nanoClock.getAsLong());
  }

  private StepReport report(
      long step,
      String gradientDigest,
      String parameterDigest,
      String forwardDigest,
      String backwardDigest,
      double norm,
      float lr,
      long start,
      long scheduleEnd,
      long scheduleIdle,
      long end) {
    long examples = (long) microBatches * microBatchSize;
    long tokens = data.isSequence() ? examples * data.inputLength() : examples;
    return new StepReport(
        jobId,
        step,
        stageIndex,
        replica,
        transport.workerId(),
        assignment.isLastStage() ? lossSum / microBatches : Double.NaN,
        examples,
        tokens,
        scheduleEnd - start - scheduleIdle,
        scheduleIdle,
        end - scheduleEnd,
        norm,
        lr,
        gradientDigest,
        parameterDigest,
        backend.determinismClass(),
        forwardDigest,
        backwardDigest);
  }

  /**
   * A faulty worker's wrong result: the stage's parameters after the update ({@code
   * Parameter::value}) or its local gradients before the all-reduce ({@code Parameter::grad}) pass
   * through the fault injector. Corrupt parameters make this replica disagree with its replicas'; a
   * corrupt gradient poisons the all-reduced sum, which only a shadow of the slot reveals.
   */
  private void corrupt(Function<Parameter, Tensor> which, String suffix) {
    for (Parameter p : parameters) {
      Tensor t = which.apply(p);
      float[] values = t.toArray();
      faults.corrupt(slotName() + "/" + p.name() + suffix, values);
      System.arraycopy(values, 0, t.data(), 0, values.length);
    }
  }

  private String slotName() {
    return jobId + "/" + stageIndex + "/" + replica;
  }

  private ForwardContext context(long step, int microBatch) {
    return new ForwardContext(
        true, Trainer.passSeed(seed, step, replica * microBatches + microBatch));
  }

  private void forward(long step, int i) {
    Tensor x;
    if (assignment.isFirstStage() || assignment.isLastStage()) {
      data.fillTrain(
          seed,
          step,
          Dataset.shardOffset(replica, i, microBatches, microBatchSize),
          microBatchSize,
          batch);
      targets[i] = assignment.isLastStage() ? batch.targets().copy() : null;
    }
    if (assignment.isFirstStage()) {
      x = batch.inputs().copy();
    } else {
      x = receive(step, i, TensorKind.ACTIVATION, stageIndex - 1, null);
    }
    inputs[i] = x;
    Tensor y = stage.forward(x, context(step, i));
    lastForward = i;
    outputShapes[i] = y.shape();
    if (assignment.isLastStage()) {
      double mbLoss = lossForwardBackward(y, i);
      lossSum += mbLoss;
      if (forwardTrace != null) {
        forwardTrace.add((float) mbLoss);
      }
    } else {
      if (forwardTrace != null) {
        forwardTrace.add(y);
      }
      send(step, i, TensorKind.ACTIVATION, pipeline.get(stageIndex + 1), y);
    }
  }

  /** Mean loss of micro-batch i; leaves the scaled gradient of the logits in {@code loss}. */
  private double lossForwardBackward(Tensor logits, int i) {
    int count = Math.max(1, CrossEntropyLoss.countTargets(targets[i]));
    int shards = microBatches * (diloco ? 1 : replicas);
    double sum = loss.forwardBackward(logits, targets[i], 1f / (count * shards));
    return sum / count;
  }

  private void backward(long step, int i) {
    Tensor gradOutput;
    if (assignment.isLastStage()) {
      if (lastForward != i) {
        lossForwardBackward(stage.forward(inputs[i], context(step, i)), i);
      }
      gradOutput = loss.grad();
    } else {
      gradOutput = receive(step, i, TensorKind.GRADIENT, stageIndex + 1, outputShapes[i]);
      if (lastForward != i) {
        stage.forward(inputs[i], context(step, i));
      }
    }
    Tensor gradInput = stage.backward(gradOutput);
    lastForward = -1;
    inputs[i] = null;
    if (!assignment.isFirstStage()) {
      if (backwardTrace != null) {
        backwardTrace.add(gradInput);
      }
      send(step, i, TensorKind.GRADIENT, pipeline.get(stageIndex - 1), gradInput);
    }
  }

  private void send(long step, int microBatch, TensorKind kind, DataPlanePeer to, Tensor t) {
    int[] shape = t.shape();
    long[] dims = new long[shape.length];
    for (int d = 0; d < shape.length; d++) {
      dims[d] = shape[d];
    }
    ByteBuffer payload = sendBuffer(sendSlot(microBatch, kind), 4 * t.size());
    payload.asFloatBuffer().put(t.data(), 0, t.size());
    TensorHeader header =
        new TensorHeader(jobId, step, microBatch, stageIndex, kind, TensorDtype.FLOAT32, dims);
    CompletableFuture<Void> sent = transport.send(to, header, payload);
    sends.add(
        sent.exceptionally(
            e -> {
              Throwable cause =
                  e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              throw new CompletionException(
                  new StageExecutionException(
                      step,
                      where(step)
                          + ": sending "
                          + kind.name().toLowerCase(Locale.ROOT)
                          + " of micro-batch "
                          + microBatch
                          + " to "
                          + to.describe()
                          + " failed: "
                          + cause.getMessage(),
                      cause));
            }));
  }

  /**
   * Send buffer slot: activations {@code 0..M-1}, gradients {@code M..2M-1}, the tied table's
   * gradient {@code 2M}, norms to stage k {@code 2M+1+k}. Every send of a step completes before the
   * step ends, so each slot's buffer is reused from step to step.
   */
  private int sendSlot(int microBatch, TensorKind kind) {
    if (microBatch == TIED_MICRO_BATCH) {
      return 2 * microBatches;
    }
    return kind == TensorKind.ACTIVATION ? microBatch : microBatches + microBatch;
  }

  private ByteBuffer sendBuffer(int slot, int bytes) {
    ByteBuffer b = sendBuffers[slot];
    if (b == null || b.capacity() < bytes) {
      b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
      sendBuffers[slot] = b;
    }
    return b.clear().limit(bytes);
  }

  private ByteBuffer reduceBuffer(int bucket, int bytes) {
    ByteBuffer b = reduceBuffers[bucket];
    if (b == null || b.capacity() < bytes) {
      b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
      reduceBuffers[bucket] = b;
    }
    return b.clear().limit(bytes);
  }

  private void awaitSends(long step) {
    long waitStart = nanoClock.getAsLong();
    try {
      for (CompletableFuture<Void> s : sends) {
        s.join();
      }
    } catch (CompletionException e) {
      if (e.getCause() instanceof StageExecutionException see) {
        throw see;
      }
      throw new StageExecutionException(step, where(step) + ": " + e.getMessage(), e);
    } finally {
      sends.clear();
      idleNanos += nanoClock.getAsLong() - waitStart;
    }
  }

  /**
   * Waits for a float32 tensor from stage {@code fromStage} of this replica; {@code expectedShape}
   * (or null) is checked against what arrived.
   */
  private Tensor receive(
      long step, int microBatch, TensorKind kind, int fromStage, int[] expectedShape) {
    DataPlanePeer from = pipeline.get(fromStage);
    ReceivedTensor in = await(step, microBatch, kind, fromStage, from);
    TensorHeader h = in.header();
    long[] dims = h.shape();
    String what =
        where(step)
            + ": "
            + kind.name().toLowerCase(Locale.ROOT)
            + " of micro-batch "
            + microBatch
            + " from "
            + from.describe();
    if (h.dtype() != TensorDtype.FLOAT32 || dims.length < 1 || dims.length > 4) {
      throw new StageExecutionException(
          step,
          what + " is " + h.dtype() + " of rank " + dims.length + ", expected float32 of rank 1..4",
          null);
    }
    int[] shape = new int[dims.length];
    long size = 1;
    for (int d = 0; d < dims.length; d++) {
      if (dims[d] < 1 || dims[d] > Integer.MAX_VALUE) {
        throw new StageExecutionException(step, what + " has shape " + Arrays.toString(dims), null);
      }
      shape[d] = (int) dims[d];
      size *= dims[d];
    }
    boolean shapeOk =
        expectedShape != null ? Arrays.equals(shape, expectedShape) : shape[0] == microBatchSize;
    if (!shapeOk || size > Integer.MAX_VALUE - 8 || in.payload().remaining() != 4 * size) {
      throw new StageExecutionException(
          step,
          what
              + " has shape "
              + Arrays.toString(dims)
              + " and "
              + in.payload().remaining()
              + " bytes; expected "
              + (expectedShape != null
                  ? Arrays.toString(expectedShape)
                  : "a batch of " + microBatchSize),
          null);
    }
    Tensor t = Tensor.zeros(shape);
    in.payload().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(t.data(), 0, t.size());
    in.release();
    return t;
  }

  private ReceivedTensor await(
      long step, int microBatch, TensorKind kind, int fromStage, DataPlanePeer from) {
    TensorKey key = new TensorKey(jobId, step, microBatch, fromStage, kind, from.workerId());
    long waitStart = nanoClock.getAsLong();
    try {
      return transport.receive(key, timeout).get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new StageExecutionException(
          step,
          where(step)
              + ": waiting for "
              + kind.name().toLowerCase(Locale.ROOT)
              + " of micro-batch "
              + microBatch
              + " from stage "
              + fromStage
              + " ("
              + from.describe()
              + "): "
              + cause.getMessage(),
          cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StageExecutionException(step, where(step) + ": interrupted", e);
    } finally {
      idleNanos += nanoClock.getAsLong() - waitStart;
    }
  }

  /** Sums {@code select(p)} of {@code params} over the replicas of this stage. */
  private void allReduce(
      long step, List<Parameter> params, int bucket, Function<Parameter, Tensor> select) {
    if (replicas == 1 || params.isEmpty()) {
      return;
    }
    long total = 0;
    for (Parameter p : params) {
      total += p.size();
    }
    ByteBuffer buffer = reduceBuffer(bucket, Math.toIntExact(4 * total));
    var floats = buffer.asFloatBuffer();
    for (Parameter p : params) {
      floats.put(select.apply(p).data(), 0, p.size());
    }
    try {
      allReduce.allReduce(ring, step, bucket, buffer, Compression.NONE);
    } catch (CollectiveException e) {
      throw new StageExecutionException(step, where(step) + ": " + e.getMessage(), e);
    }
    floats.clear();
    for (Parameter p : params) {
      floats.get(select.apply(p).data(), 0, p.size());
    }
  }

  /** First and last stage add each other's half of the tied token table's gradient. */
  private void exchangeTiedGradient(long step) {
    if (tied == null) {
      return;
    }
    int other = stageIndex == 0 ? stages - 1 : 0;
    send(step, TIED_MICRO_BATCH, TensorKind.GRADIENT, pipeline.get(other), tied.grad());
    Tensor theirs =
        receive(step, TIED_MICRO_BATCH, TensorKind.GRADIENT, other, tied.grad().shape());
    // a + b == b + a exactly, so both stages hold bit-identical sums.
    backend.add(tied.grad(), theirs, tied.grad(), tied.size());
  }

  /**
   * The global gradient norm over every stage of this replica: each stage sends its sum of squares
   * (the tied table counted once, by the first stage) to the others, and every stage adds the P
   * partial sums in stage order, so all stages clip with the same coefficient.
   */
  private double globalGradNorm(long step) {
    double mine = 0;
    boolean skipTied = tied != null && stageIndex == stages - 1;
    for (Parameter p : parameters) {
      if (!(skipTied && p == tied)) {
        mine += backend.sumOfSquares(p.grad(), p.size());
      }
    }
    if (stages == 1) {
      return Math.sqrt(mine);
    }
    for (int k = 0; k < stages; k++) {
      if (k != stageIndex) {
        ByteBuffer payload = sendBuffer(2 * microBatches + 1 + k, 8);
        payload.putLong(0, Double.doubleToRawLongBits(mine));
        TensorHeader header =
            new TensorHeader(
                jobId,
                step,
                NORM_MICRO_BATCH,
                stageIndex,
                TensorKind.GRADIENT,
                TensorDtype.INT64,
                new long[] {1});
        DataPlanePeer to = pipeline.get(k);
        sends.add(
            transport
                .send(to, header, payload)
                .exceptionally(
                    e -> {
                      throw new CompletionException(
                          new StageExecutionException(
                              step,
                              where(step)
                                  + ": sending the gradient norm to "
                                  + to.describe()
                                  + " failed: "
                                  + e.getMessage(),
                              e));
                    }));
      }
    }
    double total = 0;
    for (int k = 0; k < stages; k++) {
      if (k == stageIndex) {
        total += mine;
        continue;
      }
      ReceivedTensor in = await(step, NORM_MICRO_BATCH, TensorKind.GRADIENT, k, pipeline.get(k));
      if (in.header().dtype() != TensorDtype.INT64 || in.payload().remaining() != 8) {
        throw new StageExecutionException(
            step,
            where(step)
                + ": gradient norm from "
                + pipeline.get(k).describe()
                + " is malformed ("
                + in.header().dtype()
                + ", "
                + in.payload().remaining()
                + " bytes)",
            null);
      }
      double partial =
          Double.longBitsToDouble(in.payload().order(ByteOrder.LITTLE_ENDIAN).getLong(0));
      in.release();
      if (!(partial >= 0) || Double.isInfinite(partial)) {
        throw new StageExecutionException(
            step,
            where(step)
                + ": gradient norm from "
                + pipeline.get(k).describe()
                + " is not a finite non-negative number: "
                + partial,
            null);
      }
      total += partial;
    }
    return Math.sqrt(total);
  }

  /** DiLoCo: average the parameter deltas over the replicas and apply the outer optimizer. */
  private void outerSync(long step) {
    outer.computeDeltas();
    allReduce(step, untied, DELTA_BUCKET, outer::delta);
    if (tied != null) {
      allReduce(step, List.of(tied), TIED_DELTA_BUCKET, outer::delta);
    }
    outer.apply(replicas);
  }

  private String where(long step) {
    return "job " + jobId + " step " + step + " stage " + stageIndex + " replica " + replica;
  }

  private StageExecutionException wrap(long step, RuntimeException e) {
    if (e instanceof StageExecutionException see) {
      return see;
    }
    return new StageExecutionException(step, where(step) + " failed: " + e, e);
  }

  /** Tells every other slot of this replica's pipeline and ring that this stage gave up. */
  private void abortNeighbours(String reason) {
    for (int k = 0; k < stages; k++) {
      if (k != stageIndex) {
        transport.abort(pipeline.get(k), jobId, reason);
      }
    }
    for (int d = 0; d < replicas; d++) {
      if (d != replica) {
        transport.abort(ring.members().get(d), jobId, reason);
      }
    }
  }

  /**
   * Writes this stage's training state into {@code dir} as {@code stage-K.safetensors}: the
   * parameters under their state-dict names, AdamW moments as {@code exp_avg.NAME} and {@code
   * exp_avg_sq.NAME}, DiLoCo anchors and momenta as {@code diloco.anchor.NAME} and {@code
   * diloco.momentum.NAME}, and metadata (job, stage, layers, next step, optimizer steps). Call it
   * between steps; replicas of a stage hold identical state in synchronous mode (in DiLoCo mode
   * right after a synchronisation), so one replica per stage suffices.
   *
   * @return the file and the SHA-256 of its bytes (hex), for content addressing
   */
  public StageCheckpoint.Shard writeCheckpoint(Path dir) throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Parameter p : parameters) {
      tensors.put(p.name(), p.value());
    }
    for (Parameter p : parameters) {
      tensors.put("exp_avg." + p.name(), optimizer.firstMoments().get(p.name()));
      tensors.put("exp_avg_sq." + p.name(), optimizer.secondMoments().get(p.name()));
      if (outer != null) {
        tensors.put("diloco.anchor." + p.name(), outer.anchor(p));
        tensors.put("diloco.momentum." + p.name(), outer.momentum(p));
      }
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("job", jobId);
    meta.put("stage", Integer.toString(stageIndex));
    meta.put("first_layer", Integer.toString(assignment.firstLayer()));
    meta.put("end_layer", Integer.toString(assignment.endLayer()));
    meta.put("next_step", Long.toString(nextStep));
    meta.put("optimizer_steps", Integer.toString(optimizer.stepCount()));
    return StageCheckpoint.write(dir, stageIndex, tensors, meta);
  }

  /**
   * Restores the state {@link #writeCheckpoint} wrote for this stage, so that training continues at
   * the step after it exactly as if it had not stopped. Only before the first step.
   *
   * @throws IllegalArgumentException when a tensor is missing or has the wrong shape (the message
   *     names it)
   */
  public void restore(Path file) throws IOException {
    restore(List.of(file));
  }

  /**
   * Restores this stage from the shards of one checkpoint, however its layers were cut: every
   * tensor is found by its state-dict name in whichever shard holds it, so a job placed again with
   * other stage boundaries resumes from the same state. Only before the first step.
   *
   * @throws IllegalArgumentException when the shards disagree on the step, or a tensor this stage
   *     needs is missing or has the wrong shape (the message names it)
   */
  public void restore(List<Path> files) throws IOException {
    if (nextStep != 0) {
      throw new IllegalStateException(
          "restore before the first step; this executor is at step " + nextStep);
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no checkpoint shards to restore from");
    }
    Map<String, Tensor> tensors = new HashMap<>();
    String nextSteps = null;
    String optimizerSteps = null;
    for (Path file : files) {
      var contents = Safetensors.read(file);
      Map<String, String> meta = contents.metadata();
      String theirs = meta.get("next_step") + "/" + meta.get("optimizer_steps");
      if (nextSteps == null) {
        nextSteps = meta.get("next_step");
        optimizerSteps = meta.get("optimizer_steps");
      } else if (!theirs.equals(nextSteps + "/" + optimizerSteps)) {
        throw new IllegalArgumentException(
            file
                + " was written at step/optimizer step "
                + theirs
                + ", the other shards at "
                + nextSteps
                + "/"
                + optimizerSteps);
      }
      contents.tensors().forEach(tensors::putIfAbsent);
    }
    Path where = files.size() == 1 ? files.get(0) : Path.of(files.size() + " shards");
    for (Parameter p : parameters) {
      copyInto(where, tensors, p.name(), p.value());
      copyInto(where, tensors, "exp_avg." + p.name(), optimizer.firstMoments().get(p.name()));
      copyInto(where, tensors, "exp_avg_sq." + p.name(), optimizer.secondMoments().get(p.name()));
      if (outer != null) {
        copyInto(where, tensors, "diloco.anchor." + p.name(), outer.anchor(p));
        copyInto(where, tensors, "diloco.momentum." + p.name(), outer.momentum(p));
      }
    }
    try {
      optimizer.setStepCount(Integer.parseInt(Objects.requireNonNullElse(optimizerSteps, "")));
      nextStep = Long.parseLong(Objects.requireNonNullElse(nextSteps, ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          where + " lacks a valid next_step / optimizer_steps in its metadata", e);
    }
  }

  private static void copyInto(Path file, Map<String, Tensor> tensors, String name, Tensor target) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(file + " has no tensor " + name);
    }
    if (!Arrays.equals(t.shape(), target.shape())) {
      throw new IllegalArgumentException(
          file
              + ": tensor "
              + name
              + " has shape "
              + Arrays.toString(t.shape())
              + ", expected "
              + Arrays.toString(target.shape()));
    }
    t.copyTo(target);
  }

  /** Stops the executor's thread and drops tensors of this job that were never received. */
  @Override
  public synchronized void close() {
    closed = true;
    if (thread != null) {
      thread.shutdownNow();
    }
    transport.release(jobId);
  }
}
