package io.flotilla.scheduler;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeStartException;
import io.flotilla.ledger.LedgerBridgeSingleton;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.http.HttpSettings;
import io.flotilla.scheduler.http.JobsApi;
import io.flotilla.scheduler.job.CheckpointStore;
import io.flotilla.scheduler.job.JobSettings;
import io.flotilla.scheduler.job.Jobs;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;

/**
 * A running scheduler node: a {@link FlotillaNode} with the scheduler role, its worker directory,
 * the sharded job managers and the jobs HTTP API.
 */
public final class SchedulerNode implements AutoCloseable {

  private final FlotillaNode node;
  private final ActorRef<WorkerDirectory.Command> directory;
  private final Jobs jobs;
  private final JobsApi api;

  private SchedulerNode(
      FlotillaNode node, ActorRef<WorkerDirectory.Command> directory, Jobs jobs, JobsApi api) {
    this.node = node;
    this.directory = directory;
    this.jobs = jobs;
    this.api = api;
  }

  /**
   * Starts a scheduler node from a resolved config whose roles include {@code scheduler}.
   *
   * @throws NodeStartException when the node cannot start, saying why
   */
  public static SchedulerNode start(Config config) {
    config = withJobJournal(config);
    FlotillaNode node = FlotillaNode.start(config);
    if (!node.settings().roles().contains(NodeRole.SCHEDULER)) {
      node.close();
      throw new NodeStartException(
          "a scheduler node needs the scheduler role in flotilla.gossip.roles");
    }
    ActorRef<WorkerDirectory.Command> directory =
        node.system()
            .systemActorOf(
                WorkerDirectory.create(
                    node.registry(),
                    config.getDuration("flotilla.scheduler.workers-summary-interval")),
                "flotillaWorkerDirectory",
                Props.empty());
    Jobs jobs;
    JobsApi api = null;
    try {
      CheckpointStore store = CheckpointStore.create(config, Clock.systemUTC());
      jobs =
          Jobs.start(
              node.system(),
              node.registry(),
              JobSettings.create(config),
              store,
              LedgerBridgeSingleton.init(node.system()),
              node.reputation(),
              Clock.systemUTC());
      HttpSettings http = HttpSettings.create(config);
      if (http.enabled()) {
        api = JobsApi.start(node.system(), jobs, http);
        store.bindUrl(reachableUrl(api, node));
        node.system().log().info("Jobs API listening on {}", api.url());
      }
    } catch (RuntimeException e) {
      node.close();
      throw new NodeStartException("the scheduler's jobs cannot start: " + e.getMessage(), e);
    }
    return new SchedulerNode(node, directory, jobs, api);
  }

  /**
   * {@code config} with the scheduler's JDBC journal and snapshot store as Pekko's defaults, unless
   * the config names other plugins, and with the scheduler's database (its URL defaulting to H2 in
   * {@code h2-directory}) installed as the journal's shared database.
   */
  static Config withJobJournal(Config config) {
    Map<String, String> plugins = new HashMap<>();
    if (config.getString("pekko.persistence.journal.plugin").isEmpty()) {
      plugins.put("pekko.persistence.journal.plugin", JobSettings.JOURNAL_PLUGIN);
    }
    if (config.getString("pekko.persistence.snapshot-store.plugin").isEmpty()) {
      plugins.put("pekko.persistence.snapshot-store.plugin", JobSettings.SNAPSHOT_PLUGIN);
    }
    Config database = config.getConfig("flotilla.scheduler.persistence.database");
    if (database.getString("db.url").isEmpty()) {
      Path directory =
          Path.of(config.getString("flotilla.scheduler.persistence.h2-directory")).toAbsolutePath();
      database =
          database.withValue(
              "db.url",
              ConfigValueFactory.fromAnyRef(
                  "jdbc:h2:file:"
                      + directory
                      + "/journal"
                      + h2Settings(config.getConfig("flotilla.scheduler.persistence"))));
    }
    return ConfigFactory.parseMap(plugins)
        .withFallback(config)
        .withValue(JobSettings.SHARED_DATABASE, database.root());
  }

  /** The embedded journal's H2 settings (cache size, write delay), as URL parameters. */
  static String h2Settings(Config persistence) {
    long cacheKiB = Math.max(1, persistence.getBytes("h2-cache-size") / 1024);
    long writeDelayMs = persistence.getDuration("h2-write-delay").toMillis();
    return ";CACHE_SIZE=" + cacheKiB + ";WRITE_DELAY=" + writeDelayMs;
  }

  /**
   * The API's URL as workers on other hosts reach it: its bound address, or, when it listens on
   * every interface (0.0.0.0 or ::), the address the node is reached at in the cluster.
   */
  static String reachableUrl(JobsApi api, FlotillaNode node) {
    String url = api.url();
    String host = java.net.URI.create(url).getHost();
    if (host == null || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      return "http://" + node.address().getHost().orElse("127.0.0.1") + ":" + api.port();
    }
    return url;
  }

  /** The jobs API's base URL, when the API is enabled. */
  public Optional<String> apiUrl() {
    return Optional.ofNullable(api).map(JobsApi::url);
  }

  /** The jobs this node manages and serves. */
  public Jobs jobs() {
    return jobs;
  }

  /** The underlying cluster node. */
  public FlotillaNode node() {
    return node;
  }

  /** The scheduler's view of the available workers. */
  public ActorRef<WorkerDirectory.Command> directory() {
    return directory;
  }

  /** Leaves the cluster and stops. */
  @Override
  public void close() {
    if (api != null) {
      api.close();
    }
    node.close();
  }
}
