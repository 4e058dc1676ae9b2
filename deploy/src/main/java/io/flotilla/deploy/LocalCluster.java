package io.flotilla.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import io.flotilla.worker.SgemmBenchmark;
import io.flotilla.worker.WorkerNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * A seed, a scheduler and N workers in this process, on loopback with shortened intervals ({@code
 * flotilla/local-demo.conf}). Used by {@code flotilla demo} and {@code flotilla bench cluster}.
 */
public final class LocalCluster implements AutoCloseable {

  private static final String CPU_GFLOPS = "flotilla.worker.agent.benchmark.cpu-gflops";

  private final FlotillaNode seed;
  private final SchedulerNode scheduler;
  private final List<WorkerNode> workers;
  private final Path journalDirectory;
  private final List<Process> workerProcesses = new ArrayList<>();
  private final Set<String> started = new java.util.HashSet<>();
  private boolean crashableWorkers;
  private Config base;
  private double sharedCpuGflops;

  private LocalCluster(
      FlotillaNode seed, SchedulerNode scheduler, List<WorkerNode> workers, Path journalDirectory) {
    this.seed = seed;
    this.scheduler = scheduler;
    this.workers = workers;
    this.journalDirectory = journalDirectory;
  }

  /**
   * Starts {@code count} more workers, {@code worker-<first>} on, each in its own JVM (this JVM's
   * java, flags and class path) running {@code flotilla worker} with {@code config} as its config
   * file; their logs go to {@code worker-N.log} in the cluster's data directory (or to this
   * process's stderr with {@code inheritLogs}). They are stopped when the cluster closes.
   */
  public void startWorkerProcesses(int first, int count, Config config, boolean inheritLogs)
      throws IOException {
    Path conf = journalDirectory.resolve("worker.conf");
    Config withSpeed =
        fixesSpeed(config)
            ? config
            : config.withValue(CPU_GFLOPS, ConfigValueFactory.fromAnyRef(sharedCpuGflops()));
    Files.writeString(
        conf, withSpeed.root().render(com.typesafe.config.ConfigRenderOptions.concise()));
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> jvm = new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
    jvm.removeIf(a -> a.startsWith("-agentlib") || a.startsWith("-javaagent"));
    for (int i = first; i < first + count; i++) {
      String id = "worker-" + i;
      List<String> cmd = new ArrayList<>();
      cmd.add(java);
      cmd.addAll(jvm);
      cmd.add("-Dflotilla.identity.key-file=" + journalDirectory.resolve("keys/" + id + ".key"));
      cmd.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              "io.flotilla.deploy.cli.FlotillaCommand",
              "worker",
              "--config",
              conf.toString(),
              "--seed",
              "127.0.0.1:" + seed.port(),
              "--host",
              "127.0.0.1",
              "--port",
              "0",
              "--no-http",
              "--id",
              id,
              "--data-port",
              "0",
              "--data-host",
              "127.0.0.1"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      if (inheritLogs) {
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
      } else {
        pb.redirectOutput(journalDirectory.resolve(id + ".log").toFile());
      }
      workerProcesses.add(pb.start());
    }
  }

  /** The worker JVMs started by {@link #startWorkerProcesses}. */
  public List<Process> workerProcesses() {
    return workerProcesses;
  }

  /** The in-process demo configuration, unresolved. */
  public static Config demoConfig() {
    return ConfigFactory.parseResources("flotilla/local-demo.conf");
  }

  /**
   * Starts the nodes; returns once they listen (see {@link #awaitReady}).
   *
   * @param workerCount how many workers
   * @param crashableWorkers whether workers terminate without leaving (for crash measurements)
   * @param withScheduler whether to start a scheduler node
   */
  public static LocalCluster start(
      Config base, int workerCount, boolean crashableWorkers, boolean withScheduler) {
    if (!withScheduler) {
      // No node plans jobs: every node keeps the registry (and the reputation) itself, so that
      // the seed can still be asked who registered.
      base =
          ConfigFactory.parseString("flotilla.gossip.scheduler-state.role = \"\"")
              .withFallback(base);
    }
    FlotillaNode seed =
        FlotillaNode.start(
            NodeConfig.overrides().roles(Set.of(NodeRole.SEED)).httpEnabled(true).over(base));
    List<SeedAddress> seeds = List.of(new SeedAddress("127.0.0.1", seed.port()));
    SchedulerNode scheduler = null;
    List<WorkerNode> workers = new ArrayList<>();
    Path journal = null;
    try {
      journal = Files.createTempDirectory("flotilla-local");
      if (withScheduler) {
        scheduler =
            SchedulerNode.start(
                NodeConfig.overrides()
                    .roles(Set.of(NodeRole.SCHEDULER, NodeRole.LEDGER))
                    .seeds(seeds)
                    .set(
                        "flotilla.ledger.embedded.path",
                        journal.resolve("ledger").resolve("ledger").toString())
                    .set("flotilla.scheduler.persistence.h2-directory", journal.toString())
                    .set(
                        "flotilla.scheduler.checkpoints.directory",
                        journal.resolve("checkpoints").toString())
                    .over(base));
      }
      LocalCluster cluster = new LocalCluster(seed, scheduler, workers, journal);
      cluster.crashableWorkers = crashableWorkers;
      cluster.base = base;
      for (int i = 1; i <= workerCount; i++) {
        cluster.addWorker("worker-" + i, ConfigFactory.empty());
      }
      return cluster;
    } catch (IOException e) {
      new LocalCluster(seed, scheduler, workers, journal).close();
      throw new UncheckedIOException("cannot create the local cluster's data directory", e);
    } catch (RuntimeException e) {
      new LocalCluster(seed, scheduler, workers, journal).close();
      throw e;
    }
  }

  /**
   * Starts one more in-process worker {@code id} on this cluster's seed, with {@code extra}
   * settings over the cluster's (for example fault injection), and returns it.
   */
  public WorkerNode addWorker(String id, Config extra) {
    Config speed =
        fixesSpeed(extra)
            ? ConfigFactory.empty()
            : ConfigFactory.parseMap(java.util.Map.of(CPU_GFLOPS, sharedCpuGflops()));
    WorkerNode worker =
        WorkerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.WORKER))
                .seeds(List.of(new SeedAddress("127.0.0.1", seed.port())))
                .set("flotilla.worker.agent.id", id)
                .set(
                    "flotilla.identity.key-file",
                    journalDirectory.resolve("keys").resolve(id + ".key").toString())
                // every in-process worker gets its own free loopback data-plane port
                .set("flotilla.worker.data-plane.port", 0)
                .set("flotilla.worker.data-plane.bind-address", "127.0.0.1")
                .set("pekko.coordinated-shutdown.run-by-actor-system-terminate", !crashableWorkers)
                .over(extra.withFallback(speed).withFallback(base)));
    workers.add(worker);
    started.add(id);
    return worker;
  }

  /**
   * Crashes in-process worker {@code id}: its ActorSystem terminates without leaving the cluster
   * and its data plane closes, as when its process is killed; the other nodes must notice through
   * their failure detector and the data plane. Needs a cluster started with crashable workers.
   *
   * @throws IllegalArgumentException when no running in-process worker has that id
   * @throws IllegalStateException when the cluster's workers leave gracefully on termination
   */
  public void crashWorker(String id) {
    if (!crashableWorkers) {
      throw new IllegalStateException(
          "worker " + id + " cannot crash: the cluster was started with workers that leave");
    }
    WorkerNode worker =
        workers.stream()
            .filter(w -> w.workerId().equals(id))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no running worker " + id));
    workers.remove(worker);
    // Both at once, as when the process dies: the ActorSystem stops without leaving, and the data
    // plane goes before a step still running on the worker's own threads can finish.
    var system = worker.node().system();
    system.terminate();
    worker.dataPlane().close();
    FlotillaNode.awaitTermination(system, Duration.ofSeconds(30));
  }

  /**
   * A worker id not used in this cluster yet: {@code worker-<n + 1>} for the highest {@code n}
   * among the workers started so far (crashed ones included).
   */
  public String nextWorkerId() {
    int highest = workerProcesses.size();
    for (String id : started) {
      if (id.matches("worker-\\d{1,9}")) {
        highest = Math.max(highest, Integer.parseInt(id.substring("worker-".length())));
      }
    }
    return "worker-" + (highest + 1);
  }

  private static boolean fixesSpeed(Config config) {
    return config.hasPath(CPU_GFLOPS) && config.getDouble(CPU_GFLOPS) > 0;
  }

  /**
   * The sgemm speed every worker of this cluster advertises, measured once: the workers share this
   * machine's cores, so self-benchmarks run by all of them at once would disturb each other and
   * give the planner noise instead of speeds (unless the configuration fixes a speed).
   */
  private double sharedCpuGflops() {
    if (sharedCpuGflops == 0) {
      Config c = base.withFallback(ConfigFactory.defaultReference()).resolve();
      double configured = c.getDouble(CPU_GFLOPS);
      sharedCpuGflops =
          configured > 0
              ? configured
              : Math.max(
                  0.01,
                  SgemmBenchmark.run(
                          c.getInt("flotilla.worker.agent.benchmark.matrix-size"),
                          c.getDuration("flotilla.worker.agent.benchmark.min-duration"))
                      .gflops());
    }
    return sharedCpuGflops;
  }

  /**
   * Waits until every node is Up and the seed's registry lists every worker.
   *
   * @return whether that happened within {@code timeout}
   */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (FlotillaNode node : nodes()) {
      if (!node.awaitUp(remaining(deadline))) {
        return false;
      }
    }
    Set<String> expected = new java.util.TreeSet<>();
    workers.forEach(w -> expected.add(w.workerId()));
    for (int i = 0; i < workerProcesses.size(); i++) {
      Process p = workerProcesses.get(i);
      if (!p.isAlive()) {
        return false;
      }
      expected.add("worker-" + (workers.size() + i + 1));
    }
    if (!awaitRegistry(expected, deadline)) {
      return false;
    }
    if (scheduler == null) {
      return true;
    }
    // The scheduler plans on its replica of the registry and reaches stage hosts through it: the
    // replica must know every worker, with its data plane and stage host, before a job is
    // submitted.
    FlotillaNode node = scheduler.node();
    while (System.nanoTime() < deadline) {
      java.util.Map<String, io.flotilla.protocol.worker.WorkerCapabilities> seen = registry(node);
      if (seen.keySet().equals(expected)
          && seen.values().stream()
              .allMatch(io.flotilla.protocol.worker.WorkerCapabilities::placeable)) {
        return true;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return false;
  }

  /** Waits until the seed's registry holds exactly {@code ids}. */
  public boolean awaitRegistry(Set<String> ids, long deadlineNanos) throws InterruptedException {
    while (System.nanoTime() < deadlineNanos) {
      if (registryIds().equals(ids)) {
        return true;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return false;
  }

  /** Worker ids in the seed's registry replica. */
  public Set<String> registryIds() {
    return new java.util.TreeSet<>(registry().keySet());
  }

  /** The seed's registry replica (empty when it does not answer within 5 s). */
  public java.util.Map<String, io.flotilla.protocol.worker.WorkerCapabilities> registry() {
    return registry(seed);
  }

  private static java.util.Map<String, io.flotilla.protocol.worker.WorkerCapabilities> registry(
      FlotillaNode node) {
    try {
      return AskPattern.ask(
              node.registry(),
              WorkerRegistry.GetWorkers::new,
              Duration.ofSeconds(3),
              node.system().scheduler())
          .toCompletableFuture()
          .get(5, TimeUnit.SECONDS)
          .byId();
    } catch (Exception e) {
      return java.util.Map.of();
    }
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }

  /** The seed node (it serves HTTP). */
  public FlotillaNode seed() {
    return seed;
  }

  /** The scheduler node, or null when started without one. */
  public SchedulerNode scheduler() {
    return scheduler;
  }

  /**
   * The cluster's data directory (the scheduler's H2 journal, checkpoint store and ledger, the
   * workers' keys), deleted on close.
   */
  public Path journalDirectory() {
    return journalDirectory;
  }

  /** The worker nodes. */
  public List<WorkerNode> workers() {
    return workers;
  }

  private List<FlotillaNode> nodes() {
    List<FlotillaNode> nodes = new ArrayList<>();
    nodes.add(seed);
    if (scheduler != null) {
      nodes.add(scheduler.node());
    }
    workers.forEach(w -> nodes.add(w.node()));
    return nodes;
  }

  /** Stops the nodes one after another, workers first, the seed last. */
  @Override
  public void close() {
    for (Process p : workerProcesses) {
      p.destroy(); // SIGTERM: the worker leaves the cluster and unregisters
    }
    for (Process p : workerProcesses) {
      try {
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    List<FlotillaNode> nodes = nodes();
    Collections.reverse(nodes);
    for (FlotillaNode node : nodes) {
      if (!node.system().whenTerminated().isCompleted()) {
        node.close();
      }
    }
    if (journalDirectory != null) {
      deleteRecursively(journalDirectory);
    }
  }

  private static void deleteRecursively(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless; the OS cleans it
    }
  }
}
