package io.flotilla.worker;

import com.typesafe.config.Config;
import io.flotilla.engine.backend.BackendSelector;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeStartException;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.identity.IdentitySettings;
import io.flotilla.protocol.identity.WorkerIdentity;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.fault.FaultSettings;
import io.flotilla.worker.pipeline.PipelineSettings;
import io.flotilla.worker.task.StageHost;
import io.flotilla.worker.task.StageHostSettings;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.TensorTransport;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A running worker node: a {@link FlotillaNode} with the worker role, its {@link WorkerAgent}, and
 * its data plane (a {@link TensorTransport} whose endpoint is published in the registry). On a
 * graceful stop the worker removes its own registry entry before leaving; after a crash the
 * surviving nodes remove it.
 */
public final class WorkerNode implements AutoCloseable {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(WorkerNode.class);

  private static final Duration UNREGISTER_TIMEOUT = Duration.ofSeconds(3);

  private final FlotillaNode node;
  private final String workerId;
  private final ActorRef<WorkerAgent.Command> agent;
  private final TensorTransport dataPlane;
  private final FaultInjector faults;

  private WorkerNode(
      FlotillaNode node,
      String workerId,
      ActorRef<WorkerAgent.Command> agent,
      TensorTransport dataPlane,
      FaultInjector faults) {
    this.node = node;
    this.workerId = workerId;
    this.agent = agent;
    this.dataPlane = dataPlane;
    this.faults = faults;
  }

  /**
   * Starts a worker node from a resolved config whose roles include {@code worker}.
   *
   * @throws NodeStartException when the node cannot start, saying why
   */
  public static WorkerNode start(Config config) {
    WorkerAgentSettings settings;
    DataPlaneSettings dataPlaneSettings;
    PipelineSettings pipelineSettings;
    StageHostSettings hostSettings;
    FaultSettings faultSettings;
    try {
      settings = WorkerAgentSettings.create(config);
      dataPlaneSettings = DataPlaneSettings.create(config);
      pipelineSettings = PipelineSettings.create(config);
      hostSettings = StageHostSettings.create(config);
      faultSettings = FaultSettings.create(config);
    } catch (IllegalArgumentException e) {
      throw new NodeStartException("invalid worker configuration: " + e.getMessage(), e);
    }
    BackendSelector.Selection compute;
    try {
      // Probes CUDA once and logs one line: which backend and why.
      compute = BackendSelector.standard().select(settings.backend(), 1, settings.precision());
    } catch (BackendSelector.BackendUnavailableException e) {
      throw new NodeStartException(e.getMessage() + " (use --backend cpu or auto)", e);
    }
    FlotillaNode node;
    try {
      node = FlotillaNode.start(config);
    } catch (RuntimeException e) {
      compute.backend().close();
      throw e;
    }
    if (!node.settings().roles().contains(NodeRole.WORKER)) {
      compute.backend().close();
      node.close();
      throw new NodeStartException("a worker node needs the worker role in flotilla.gossip.roles");
    }
    String workerId =
        settings.id().isBlank()
            ? "worker-" + node.address().getHost().get() + "-" + node.port()
            : settings.id();
    ActorRef<WorkerRegistry.Command> registry = node.registry();
    FaultInjector faults = FaultInjector.create(faultSettings);
    if (faults.active()) {
      // Only in this process's own log: a faulty worker never announces itself to the cluster.
      log.warn(
          "Worker {} runs with fault injection: mode {}, rate {}, seed {}",
          workerId,
          faultSettings.mode().cliName(),
          faultSettings.rate(),
          faultSettings.seed());
    }
    ActorRef<WorkerAgent.Command> agent =
        node.system()
            .systemActorOf(
                Behaviors.withMdc(
                    WorkerAgent.Command.class,
                    java.util.Map.of("workerId", workerId),
                    WorkerAgent.create(
                        workerId, settings, compute, registry, Clock.systemUTC(), faults)),
                "flotillaWorkerAgent",
                Props.empty());
    CoordinatedShutdown.get(Adapter.toClassic(node.system()))
        .addTask(
            CoordinatedShutdown.PhaseBeforeClusterShutdown(),
            "flotilla-unregister-worker",
            () ->
                AskPattern.<WorkerRegistry.Command, org.apache.pekko.pattern.StatusReply<Done>>ask(
                        registry,
                        replyTo -> new WorkerRegistry.Unregister(workerId, replyTo),
                        UNREGISTER_TIMEOUT,
                        node.system().scheduler())
                    .handle((reply, failure) -> Done.getInstance()));
    TensorTransport dataPlane;
    try {
      dataPlane = TensorTransport.launch(dataPlaneSettings, workerId);
    } catch (RuntimeException e) {
      node.close();
      throw new NodeStartException(
          "the data plane of "
              + workerId
              + " did not start on "
              + dataPlaneSettings.bindAddress()
              + ":"
              + dataPlaneSettings.port()
              + ": "
              + e.getMessage()
              + " (set another port with --data-port or FLOTILLA_DATA_PORT; 0 picks a free one)",
          e);
    }
    WorkerMetrics.bind(node.system(), dataPlane);
    CoordinatedShutdown.get(Adapter.toClassic(node.system()))
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "flotilla-close-data-plane",
            () -> {
              dataPlane.close();
              return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
            });
    WorkerIdentity identity;
    Path keyFile = IdentitySettings.create(config).keyFile();
    try {
      identity = WorkerIdentity.loadOrCreate(keyFile);
    } catch (java.io.IOException e) {
      node.close();
      dataPlane.close();
      throw new NodeStartException(
          "the signing key of "
              + workerId
              + " cannot be read or created at "
              + keyFile
              + ": "
              + e.getMessage()
              + " (set flotilla.identity.key-file or FLOTILLA_KEY_FILE)",
          e);
    }
    ActorRef<StageHostCommand> host =
        node.system()
            .systemActorOf(
                StageHost.create(dataPlane, pipelineSettings, hostSettings, identity, faults),
                "flotillaStageHost",
                Props.empty());
    agent.tell(new WorkerAgent.SetStageHost(host));
    agent.tell(new WorkerAgent.SetWalletAddress(identity.address()));
    agent.tell(new WorkerAgent.SetDataPlane(dataPlane.endpoint()));
    return new WorkerNode(node, workerId, agent, dataPlane, faults);
  }

  /** The underlying cluster node. */
  public FlotillaNode node() {
    return node;
  }

  /** The id under which this worker is registered. */
  public String workerId() {
    return workerId;
  }

  /** The worker's agent. */
  public ActorRef<WorkerAgent.Command> agent() {
    return agent;
  }

  /** The worker's data plane: tensors to and from other workers. */
  public TensorTransport dataPlane() {
    return dataPlane;
  }

  /**
   * The worker's fault injector ({@code flotilla.worker.fault}); inactive on a correct worker. The
   * stage executors of this worker apply it to their results.
   */
  public FaultInjector faultInjector() {
    return faults;
  }

  /** Publishes another data-plane endpoint (e.g. after a NAT mapping changed). */
  public void setDataPlane(DataPlaneEndpoint endpoint) {
    agent.tell(new WorkerAgent.SetDataPlane(endpoint));
  }

  /** Publishes the wallet address once the worker's signing key exists. */
  public void setWalletAddress(String address) {
    agent.tell(new WorkerAgent.SetWalletAddress(address));
  }

  /** Unregisters, leaves the cluster and stops. */
  @Override
  public void close() {
    try {
      node.close();
    } finally {
      dataPlane.close();
    }
  }
}
