package io.flotilla.gossip;

import com.typesafe.config.Config;
import io.flotilla.protocol.NodeRole;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code flotilla.gossip} settings, read once.
 *
 * @param systemName ActorSystem name shared by the whole cluster
 * @param host canonical host of this node
 * @param port Artery TCP port (0 = any free port)
 * @param seeds seed nodes to join through
 * @param roles roles of this node
 * @param joinProgressLogInterval how often to warn while not yet joined
 * @param httpEnabled whether the HTTP health endpoint runs
 * @param httpHost interface of the HTTP endpoint
 * @param httpPort port of the HTTP endpoint (0 = any free port)
 * @param registryWriteTimeout how long a registry write waits for a majority
 * @param registryPruneInterval how often entries of departed members are swept
 * @param registryShards how many Distributed Data keys the registry is split over
 */
public record GossipSettings(
    String systemName,
    String host,
    int port,
    List<SeedAddress> seeds,
    Set<NodeRole> roles,
    Duration joinProgressLogInterval,
    boolean httpEnabled,
    String httpHost,
    int httpPort,
    Duration registryWriteTimeout,
    Duration registryPruneInterval,
    int registryShards) {

  public GossipSettings {
    seeds = List.copyOf(seeds);
    roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
    checkPort("flotilla.gossip.port", port);
    checkPort("flotilla.gossip.http.port", httpPort);
    if (host.isBlank()) {
      throw new IllegalArgumentException("flotilla.gossip.host must not be blank");
    }
    if (registryShards < 1 || registryShards > 1024) {
      throw new IllegalArgumentException(
          "flotilla.gossip.registry.shards = " + registryShards + "; allowed: 1..1024");
    }
  }

  private static void checkPort(String key, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(key + " = " + port + "; allowed: 0..65535");
    }
  }

  /** Reads the settings from the root config (the {@code flotilla.gossip} section). */
  public static GossipSettings create(Config root) {
    Config c = root.getConfig("flotilla.gossip");
    return new GossipSettings(
        c.getString("system-name"),
        c.getString("host"),
        c.getInt("port"),
        SeedAddress.parseList(c.getString("seeds")),
        parseRoles(c.getString("roles")),
        c.getDuration("join-progress-log-interval"),
        c.getBoolean("http.enabled"),
        c.getString("http.host"),
        c.getInt("http.port"),
        c.getDuration("registry.write-timeout"),
        c.getDuration("registry.prune-interval"),
        c.getInt("registry.shards"));
  }

  /** Parses comma-separated role names, e.g. {@code worker,ledger}. */
  public static Set<NodeRole> parseRoles(String text) {
    Set<NodeRole> roles = EnumSet.noneOf(NodeRole.class);
    Arrays.stream(text.split(","))
        .filter(s -> !s.isBlank())
        .forEach(s -> roles.add(NodeRole.parse(s)));
    return roles;
  }
}
