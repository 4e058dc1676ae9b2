package io.flotilla.loadtest;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The cluster a scenario runs against, in this JVM: a seed, one or more real scheduler nodes (job
 * managers on the H2 journal, verifier, checkpoint store, jobs API, the ledger bridge singleton on
 * the embedded ledger) and several {@link VolunteerHost}s carrying the simulated workers.
 */
public final class LoadCluster implements AutoCloseable {

  private final Path directory;
  private final Config base;
  private final FlotillaNode seed;
  private final List<SchedulerNode> schedulers = new ArrayList<>();
  private final List<VolunteerHost> hosts = new ArrayList<>();

  private LoadCluster(Path directory, Config base, FlotillaNode seed) {
    this.directory = directory;
    this.base = base;
    this.seed = seed;
  }

  /**
   * The load tests' configuration ({@code flotilla/load-test.conf}) under the JVM's system
   * properties (so that {@code -Dpekko...} in FLOTILLA_JAVA_OPTS overrides it), unresolved.
   */
  public static Config loadTestConfig() {
    return ConfigFactory.systemProperties()
        .withFallback(ConfigFactory.parseResources("flotilla/load-test.conf"));
  }

  /**
   * Starts a seed, {@code schedulers} scheduler nodes and {@code hosts} volunteer hosts over {@code
   * base}; returns once every node is Up.
   */
  public static LoadCluster start(Config base, int schedulers, int hosts, Simulation simulation) {
    Path directory;
    try {
      directory = Files.createTempDirectory("flotilla-load");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the load cluster's data directory", e);
    }
    FlotillaNode seed =
        FlotillaNode.start(NodeConfig.overrides().roles(Set.of(NodeRole.SEED)).over(base));
    LoadCluster cluster = new LoadCluster(directory, base, seed);
    try {
      for (int i = 0; i < schedulers; i++) {
        cluster.schedulers.add(SchedulerNode.start(cluster.schedulerConfig()));
      }
      for (int i = 0; i < hosts; i++) {
        cluster.hosts.add(
            new VolunteerHost(
                NodeConfig.overrides()
                    .roles(Set.of(NodeRole.WORKER))
                    .seeds(cluster.seeds())
                    .set("pekko.scheduler.tick-duration", "1ms")
                    .set("pekko.coordinated-shutdown.run-by-actor-system-terminate", false)
                    .over(base),
                simulation));
      }
      for (FlotillaNode node : cluster.nodes()) {
        if (!node.awaitUp(Duration.ofSeconds(60))) {
          throw new IllegalStateException("node " + node.address() + " did not join within 60 s");
        }
      }
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cluster.close();
      throw new IllegalStateException("interrupted while starting", e);
    }
  }

  private List<SeedAddress> seeds() {
    return List.of(new SeedAddress("127.0.0.1", seed.port()));
  }

  private Config schedulerConfig() {
    return NodeConfig.overrides()
        .roles(Set.of(NodeRole.SCHEDULER, NodeRole.LEDGER))
        .seeds(seeds())
        .set("pekko.coordinated-shutdown.run-by-actor-system-terminate", false)
        .set("flotilla.ledger.embedded.path", directory.resolve("ledger/ledger").toString())
        .set("flotilla.scheduler.persistence.h2-directory", directory.toString())
        .set(
            "flotilla.scheduler.checkpoints.directory", directory.resolve("checkpoints").toString())
        .over(base);
  }

  /** The scheduler nodes, crashed ones included. */
  public List<SchedulerNode> schedulers() {
    return schedulers;
  }

  /** A scheduler node that is still running. */
  public SchedulerNode liveScheduler() {
    for (int i = schedulers.size() - 1; i >= 0; i--) {
      SchedulerNode s = schedulers.get(i);
      if (!s.node().system().whenTerminated().isCompleted()) {
        return s;
      }
    }
    throw new IllegalStateException("no scheduler node is running");
  }

  /** The volunteer hosts, crashed ones included. */
  public List<VolunteerHost> hosts() {
    return hosts;
  }

  /** The seed node. */
  public FlotillaNode seed() {
    return seed;
  }

  /** Worker ids in the registry replica of the live scheduler (empty when it does not answer). */
  public Map<String, io.flotilla.protocol.worker.WorkerCapabilities> registry() {
    SchedulerNode s = liveScheduler();
    try {
      return AskPattern.ask(
              s.node().registry(),
              WorkerRegistry.GetWorkers::new,
              Duration.ofSeconds(5),
              s.node().system().scheduler())
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS)
          .byId();
    } catch (Exception e) {
      return Map.of();
    }
  }

  private List<FlotillaNode> nodes() {
    List<FlotillaNode> nodes = new ArrayList<>();
    nodes.add(seed);
    schedulers.forEach(s -> nodes.add(s.node()));
    hosts.forEach(h -> nodes.add(h.node()));
    return nodes;
  }

  /** Stops the hosts, then the schedulers, then the seed, and deletes the data directory. */
  @Override
  public void close() {
    hosts.forEach(VolunteerHost::close);
    List<SchedulerNode> reversed = new ArrayList<>(schedulers);
    Collections.reverse(reversed);
    for (SchedulerNode s : reversed) {
      if (!s.node().system().whenTerminated().isCompleted()) {
        s.node().crash();
      }
    }
    seed.close();
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }

  /** The base configuration the nodes started with. */
  public Config base() {
    return base;
  }
}
