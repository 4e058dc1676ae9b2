package io.flotilla.worker;

import io.flotilla.engine.backend.BackendSelector;
import io.flotilla.engine.backend.cuda.CudaBackend;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.protocol.worker.GpuInfo;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.worker.fault.FaultInjector;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A worker's agent: measures the machine once at start (sgemm self-benchmark on the blocking
 * dispatcher; on a CUDA worker also cuBLAS sgemm on the GPU), waits until the node is Up, and
 * publishes the worker's {@link WorkerCapabilities} into the registry: its backend ({@code cpu} or
 * {@code cuda}) and, on CUDA, the GPU's model, memory and measured TFLOP/s. Later facts (the
 * data-plane endpoint once Aeron runs, the wallet address once the ledger key exists, the stage
 * host once it started) are set with {@link SetDataPlane}, {@link SetWalletAddress} and {@link
 * SetStageHost}, which re-publish the entry.
 */
public final class WorkerAgent extends AbstractBehavior<WorkerAgent.Command> {

  /** Messages the agent understands. */
  public sealed interface Command extends ControlMessage {}

  /** Publishes where this worker receives tensors. */
  public record SetDataPlane(DataPlaneEndpoint endpoint) implements Command {}

  /** Publishes the address this worker is paid at. */
  public record SetWalletAddress(String address) implements Command {}

  /** Publishes the actor that runs this worker's stages, where job managers send their orders. */
  public record SetStageHost(ActorRef<StageHostCommand> host) implements Command {}

  /** Asks for what the agent publishes; the reply's capabilities are null before publishing. */
  public record GetCapabilities(ActorRef<CurrentCapabilities> replyTo) implements Command {}

  /** The agent's capabilities, or null while it is still measuring or joining. */
  public record CurrentCapabilities(WorkerCapabilities capabilities) implements ControlMessage {}

  private sealed interface Internal extends Command, NoSerializationVerificationNeeded {}

  private record Measurement(SgemmBenchmark.Result cpu, GpuInfo gpu) {}

  private record Measured(Measurement result, Throwable failure) implements Internal {}

  private record Joined(SelfUp up) implements Internal {}

  private record Published(Throwable failure) implements Internal {}

  private static final java.time.Duration PUBLISH_TIMEOUT = java.time.Duration.ofSeconds(10);

  /**
   * Creates the agent.
   *
   * @param workerId the registry id
   * @param settings the agent settings
   * @param compute the selected compute backend: measured, advertised, then closed by the agent
   * @param registry this node's registry replica
   * @param clock source of the join time
   */
  public static Behavior<Command> create(
      String workerId,
      WorkerAgentSettings settings,
      BackendSelector.Selection compute,
      ActorRef<WorkerRegistry.Command> registry,
      Clock clock) {
    return create(workerId, settings, compute, registry, clock, FaultInjector.none());
  }

  /**
   * Creates the agent of a worker that may be faulty on purpose.
   *
   * @param workerId the registry id
   * @param settings the agent settings
   * @param compute the selected compute backend: measured, advertised, then closed by the agent
   * @param registry this node's registry replica
   * @param clock source of the join time
   * @param faults applied to every publication (lie-capabilities inflates what is advertised)
   */
  public static Behavior<Command> create(
      String workerId,
      WorkerAgentSettings settings,
      BackendSelector.Selection compute,
      ActorRef<WorkerRegistry.Command> registry,
      Clock clock,
      FaultInjector faults) {
    return Behaviors.setup(
        ctx -> new WorkerAgent(ctx, workerId, settings, compute, registry, clock, faults));
  }

  private final String workerId;
  private final WorkerAgentSettings settings;
  private final String backendKind;
  private final ActorRef<WorkerRegistry.Command> registry;
  private final Clock clock;
  private final FaultInjector faults;
  private SgemmBenchmark.Result benchmark;
  private GpuInfo gpu;
  private long joinedAtEpochMs = -1;
  private DataPlaneEndpoint dataPlane;
  private String walletAddress;
  private ActorRef<StageHostCommand> stageHost;
  private WorkerCapabilities published;

  private WorkerAgent(
      ActorContext<Command> ctx,
      String workerId,
      WorkerAgentSettings settings,
      BackendSelector.Selection compute,
      ActorRef<WorkerRegistry.Command> registry,
      Clock clock,
      FaultInjector faults) {
    super(ctx);
    this.faults = faults;
    this.workerId = workerId;
    this.settings = settings;
    this.backendKind = compute.kind();
    this.registry = registry;
    this.clock = clock;
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(Subscribe.create(ctx.messageAdapter(SelfUp.class, Joined::new), SelfUp.class));
    var executor =
        ctx.getSystem()
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig("flotilla.worker.agent.blocking-dispatcher"));
    ctx.getLog()
        .info(
            "Worker {}: measuring sgemm throughput ({}x{} for {})",
            workerId,
            settings.benchmarkMatrixSize(),
            settings.benchmarkMatrixSize(),
            settings.benchmarkMinDuration());
    ctx.pipeToSelf(
        CompletableFuture.supplyAsync(() -> measure(settings, compute), executor), Measured::new);
  }

  /** CPU sgemm, and cuBLAS sgemm on the GPU when the backend is CUDA; closes the backend. */
  private static Measurement measure(
      WorkerAgentSettings settings, BackendSelector.Selection compute) {
    try {
      SgemmBenchmark.Result cpu =
          settings.benchmarkCpuGflops() > 0
              ? new SgemmBenchmark.Result(settings.benchmarkCpuGflops(), 0, "configured")
              : SgemmBenchmark.run(settings.benchmarkMatrixSize(), settings.benchmarkMinDuration());
      GpuInfo gpu = null;
      if (compute.backend() instanceof CudaBackend cuda) {
        double tflops =
            cuda.measureSgemmTflops(
                settings.benchmarkGpuMatrixSize(), settings.benchmarkMinDuration().toNanos());
        gpu = new GpuInfo(cuda.device().name(), cuda.device().totalMemoryBytes(), tflops);
      }
      return new Measurement(cpu, gpu);
    } finally {
      compute.backend().close();
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Measured.class, this::onMeasured)
        .onMessage(Joined.class, this::onJoined)
        .onMessage(Published.class, this::onPublished)
        .onMessage(SetDataPlane.class, this::onSetDataPlane)
        .onMessage(SetWalletAddress.class, this::onSetWalletAddress)
        .onMessage(SetStageHost.class, this::onSetStageHost)
        .onMessage(GetCapabilities.class, this::onGetCapabilities)
        .build();
  }

  private Behavior<Command> onMeasured(Measured msg) {
    if (msg.failure() != null) {
      // Without a measurement the worker still offers its cores; the planner then sees 0 GFLOP/s
      // and gives it the least work.
      getContext().getLog().error("Worker {}: self-benchmark failed", workerId, msg.failure());
      benchmark = new SgemmBenchmark.Result(0, 0, "failed");
    } else {
      benchmark = msg.result().cpu();
      gpu = msg.result().gpu();
      getContext()
          .getLog()
          .info(
              "Worker {}: {} GFLOP/s sgemm ({} runs, {})",
              workerId,
              String.format(java.util.Locale.ROOT, "%.1f", benchmark.gflops()),
              benchmark.runs(),
              benchmark.implementation());
      if (gpu != null) {
        getContext()
            .getLog()
            .info(
                "Worker {}: GPU {} with {} MiB, {} TFLOP/s cuBLAS sgemm ({})",
                workerId,
                gpu.model(),
                gpu.memoryBytes() >> 20,
                String.format(java.util.Locale.ROOT, "%.2f", gpu.measuredTflops()),
                settings.precision().id());
      }
    }
    publish();
    return this;
  }

  private Behavior<Command> onJoined(Joined msg) {
    if (joinedAtEpochMs < 0) {
      joinedAtEpochMs = clock.millis();
    }
    publish();
    return this;
  }

  private Behavior<Command> onSetDataPlane(SetDataPlane cmd) {
    dataPlane = cmd.endpoint();
    publish();
    return this;
  }

  private Behavior<Command> onSetWalletAddress(SetWalletAddress cmd) {
    walletAddress = cmd.address();
    publish();
    return this;
  }

  private Behavior<Command> onSetStageHost(SetStageHost cmd) {
    stageHost = cmd.host();
    publish();
    return this;
  }

  private Behavior<Command> onGetCapabilities(GetCapabilities cmd) {
    cmd.replyTo().tell(new CurrentCapabilities(published));
    return this;
  }

  private Behavior<Command> onPublished(Published msg) {
    if (msg.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "Worker {}: registration not confirmed yet: {}",
              workerId,
              msg.failure().getMessage());
    }
    return this;
  }

  /** Publishes once both the measurement and membership are there; again on every change. */
  private void publish() {
    if (benchmark == null || joinedAtEpochMs < 0) {
      return;
    }
    WorkerCapabilities caps =
        faults.capabilities(
            new WorkerCapabilities(
                workerId,
                Cluster.get(getContext().getSystem()).selfMember().address().toString(),
                settings.effectiveCores(),
                settings.effectiveMemoryBytes(),
                gpu,
                benchmark.gflops(),
                backendKind,
                dataPlane,
                walletAddress,
                settings.labels(),
                joinedAtEpochMs,
                stageHost));
    if (caps.equals(published)) {
      return;
    }
    published = caps;
    getContext()
        .askWithStatus(
            Done.class,
            registry,
            PUBLISH_TIMEOUT,
            replyTo -> new WorkerRegistry.Register(caps, replyTo),
            (done, failure) -> new Published(failure));
    getContext().getLog().info("Worker {} published to the registry: {}", workerId, caps);
  }
}
