package io.flotilla.gossip;

import com.typesafe.config.Config;
import io.flotilla.gossip.reputation.ReputationExtension;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.protocol.NodeRole;
import java.net.BindException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Flotilla node: an ActorSystem with Artery TCP remoting that joins the cluster through
 * its seeds, holds a replica of the worker registry, and (optionally) serves health over HTTP.
 *
 * <p>Start problems an operator can fix (port in use, no seeds) come out as {@link
 * NodeStartException} with a message naming the setting.
 */
public final class FlotillaNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FlotillaNode.class);
  private static final Duration HTTP_START_TIMEOUT = Duration.ofSeconds(15);

  private final ActorSystem<Void> system;
  private final GossipSettings settings;
  private final Optional<String> httpUri;

  private FlotillaNode(ActorSystem<Void> system, GossipSettings settings, Optional<String> uri) {
    this.system = system;
    this.settings = settings;
    this.httpUri = uri;
  }

  /**
   * Starts a node from a resolved config (see {@link NodeConfig}) and begins joining the cluster.
   * Returns as soon as the node listens; use {@link #awaitUp} to wait for membership.
   *
   * @throws NodeStartException when the node cannot start, saying why
   */
  public static FlotillaNode start(Config config) {
    GossipSettings settings;
    try {
      settings = GossipSettings.create(config);
    } catch (IllegalArgumentException e) {
      throw new NodeStartException("invalid configuration: " + e.getMessage(), e);
    }
    if (settings.seeds().isEmpty() && !settings.roles().contains(NodeRole.SEED)) {
      throw new NodeStartException(
          "no seed nodes given: pass --seed host:port (repeatable), set FLOTILLA_SEEDS=host:port,..."
              + " or flotilla.gossip.seeds; only a node with the seed role may start a new"
              + " cluster without seeds");
    }
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), settings.systemName(), config);
    } catch (RuntimeException e) {
      if (hasCause(e, BindException.class)) {
        throw new NodeStartException(
            "cannot listen for cluster traffic on "
                + settings.host()
                + ":"
                + settings.port()
                + ": port "
                + settings.port()
                + " is already in use (set another with --port, FLOTILLA_PORT or"
                + " flotilla.gossip.port)",
            e);
      }
      throw new NodeStartException("node failed to start: " + e.getMessage(), e);
    }
    try {
      Cluster cluster = Cluster.get(system);
      Address self = cluster.selfMember().address();
      if (settings.seeds().isEmpty()) {
        cluster.manager().tell(Join.create(self));
      } else {
        List<Address> seeds =
            settings.seeds().stream().map(s -> s.toAddress(settings.systemName())).toList();
        cluster.manager().tell(new JoinSeedNodes(seeds));
      }
      system.systemActorOf(
          JoinWatcher.create(settings.seeds(), settings.joinProgressLogInterval()),
          "flotillaJoinWatcher",
          Props.empty());
      GossipMetrics.get(system);
      WorkerRegistryExtension.get(system);
      ReputationExtension.get(system);
      Optional<String> uri = Optional.empty();
      if (settings.httpEnabled()) {
        uri = Optional.of(startHttp(system, settings));
      }
      log.info(
          "Flotilla node {} started with roles {}{}",
          self,
          settings.roles(),
          uri.map(u -> "; health at " + u + "/health/ready, metrics at " + u + "/metrics")
              .orElse(""));
      return new FlotillaNode(system, settings, uri);
    } catch (RuntimeException e) {
      system.terminate();
      awaitTermination(system, Duration.ofSeconds(10));
      throw e;
    }
  }

  private static String startHttp(ActorSystem<Void> system, GossipSettings settings) {
    CompletionStage<org.apache.pekko.http.javadsl.model.Uri> started =
        PekkoManagement.get(Adapter.toClassic(system)).start();
    try {
      return started
          .toCompletableFuture()
          .get(HTTP_START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .toString()
          .replaceAll("/$", "");
    } catch (ExecutionException e) {
      if (hasCause(e, BindException.class)) {
        throw new NodeStartException(
            "cannot serve HTTP health on "
                + settings.httpHost()
                + ":"
                + settings.httpPort()
                + ": port "
                + settings.httpPort()
                + " is already in use (set another with --http-port, FLOTILLA_HTTP_PORT or"
                + " flotilla.gossip.http.port)",
            e);
      }
      throw new NodeStartException("HTTP endpoint failed to start: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new NodeStartException("HTTP endpoint did not start within " + HTTP_START_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NodeStartException("interrupted while starting the HTTP endpoint", e);
    }
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)
          || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
        return true;
      }
    }
    return false;
  }

  /** The node's ActorSystem. */
  public ActorSystem<Void> system() {
    return system;
  }

  /** The settings this node started with. */
  public GossipSettings settings() {
    return settings;
  }

  /** This node's cluster address, e.g. {@code pekko://flotilla@127.0.0.1:2552}. */
  public Address address() {
    return Cluster.get(system).selfMember().address();
  }

  /** The port this node listens on for cluster traffic (the bound one when configured as 0). */
  public int port() {
    return address().getPort().get();
  }

  /** The base URI of the HTTP endpoint, e.g. {@code http://127.0.0.1:8558}, if it runs. */
  public Optional<String> httpUri() {
    return httpUri;
  }

  /** This node's replica of the worker registry. */
  public ActorRef<WorkerRegistry.Command> registry() {
    return WorkerRegistryExtension.get(system).registry();
  }

  /** This node's replica of the workers' reputation. */
  public ActorRef<ReputationRegistry.Command> reputation() {
    return ReputationExtension.get(system).registry();
  }

  /** Whether this node is an Up member. */
  public boolean isUp() {
    return Cluster.get(system).selfMember().status() == MemberStatus.up();
  }

  /**
   * Waits until this node is Up, up to {@code timeout}.
   *
   * @return whether it is Up
   */
  public boolean awaitUp(Duration timeout) throws InterruptedException {
    java.util.concurrent.CompletableFuture<Boolean> up =
        new java.util.concurrent.CompletableFuture<>();
    Cluster.get(system)
        .subscriptions()
        .tell(
            org.apache.pekko.cluster.typed.Subscribe.create(
                system.systemActorOf(
                    Behaviors.<org.apache.pekko.cluster.typed.SelfUp>receiveMessage(
                        m -> {
                          up.complete(true);
                          return Behaviors.stopped();
                        }),
                    "awaitUp-" + System.nanoTime(),
                    Props.empty()),
                org.apache.pekko.cluster.typed.SelfUp.class));
    try {
      return up.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Leaves the cluster gracefully and terminates the ActorSystem (coordinated shutdown). */
  @Override
  public void close() {
    system.terminate();
    awaitTermination(system, Duration.ofSeconds(30));
  }

  /**
   * Terminates the ActorSystem without leaving the cluster, as if the process crashed: the others
   * must detect the loss. Needs {@code pekko.coordinated-shutdown.run-by-actor-system-terminate =
   * off} on this node, else termination would leave gracefully.
   */
  public void crash() {
    if (system
        .settings()
        .config()
        .getBoolean("pekko.coordinated-shutdown.run-by-actor-system-terminate")) {
      throw new IllegalStateException(
          "crash() needs pekko.coordinated-shutdown.run-by-actor-system-terminate = off");
    }
    system.terminate();
    awaitTermination(system, Duration.ofSeconds(30));
  }

  /** Blocks until the system terminated, up to {@code timeout}. */
  public static void awaitTermination(ActorSystem<?> system, Duration timeout) {
    try {
      system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("ActorSystem {} did not terminate within {}", system.name(), timeout);
    }
  }
}
