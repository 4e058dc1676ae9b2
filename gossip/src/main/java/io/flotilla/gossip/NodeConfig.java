package io.flotilla.gossip;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.flotilla.protocol.NodeRole;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds a node's configuration: command-line choices layered over a base config (the
 * application.conf with its environment overrides, or the reference defaults).
 */
public final class NodeConfig {

  private final Map<String, Object> overrides = new HashMap<>();

  private NodeConfig() {}

  /** Starts an empty set of overrides. */
  public static NodeConfig overrides() {
    return new NodeConfig();
  }

  /** Sets the canonical host. */
  public NodeConfig host(String host) {
    overrides.put("flotilla.gossip.host", host);
    return this;
  }

  /** Sets the Artery TCP port (0 = any free port). */
  public NodeConfig port(int port) {
    overrides.put("flotilla.gossip.port", port);
    return this;
  }

  /** Replaces the seeds. */
  public NodeConfig seeds(List<SeedAddress> seeds) {
    overrides.put(
        "flotilla.gossip.seeds",
        seeds.stream().map(SeedAddress::toString).collect(Collectors.joining(",")));
    return this;
  }

  /** Replaces the roles. */
  public NodeConfig roles(Collection<NodeRole> roles) {
    overrides.put(
        "flotilla.gossip.roles",
        roles.stream().map(NodeRole::roleName).collect(Collectors.joining(",")));
    return this;
  }

  /** Sets the HTTP port (0 = any free port). */
  public NodeConfig httpPort(int port) {
    overrides.put("flotilla.gossip.http.port", port);
    return this;
  }

  /** Turns the HTTP endpoint on or off. */
  public NodeConfig httpEnabled(boolean enabled) {
    overrides.put("flotilla.gossip.http.enabled", enabled);
    return this;
  }

  /** Sets any other key. */
  public NodeConfig set(String path, Object value) {
    overrides.put(path, value instanceof List<?> l ? ConfigValueFactory.fromIterable(l) : value);
    return this;
  }

  /**
   * The overrides over {@code base}, resolved. {@code base} must be unresolved (e.g. from {@link
   * ConfigFactory#parseResources}) or a loaded config; the Pekko keys derived from {@code
   * flotilla.gossip} are set explicitly so they follow the overrides either way.
   */
  public Config over(Config base) {
    Config withOverrides = ConfigFactory.parseMap(overrides).withFallback(base);
    Config resolved = withOverrides.resolve();
    Map<String, Object> derived = new HashMap<>();
    derived.put(
        "pekko.remote.artery.canonical.hostname", resolved.getString("flotilla.gossip.host"));
    derived.put("pekko.remote.artery.canonical.port", resolved.getInt("flotilla.gossip.port"));
    String httpHost = resolved.getString("flotilla.gossip.http.host");
    int httpPort = resolved.getInt("flotilla.gossip.http.port");
    derived.put("pekko.management.http.hostname", httpHost);
    derived.put("pekko.management.http.port", httpPort);
    derived.put("pekko.management.http.bind-hostname", httpHost);
    derived.put("pekko.management.http.bind-port", httpPort);
    derived.put(
        "pekko.cluster.roles",
        ConfigValueFactory.fromIterable(
            GossipSettings.parseRoles(resolved.getString("flotilla.gossip.roles")).stream()
                .map(NodeRole::roleName)
                .toList()));
    return ConfigFactory.parseMap(derived).withFallback(resolved).resolve();
  }

  /** The overrides over the reference and application config on the class path. */
  public Config overDefaults() {
    return over(
        ConfigFactory.defaultOverrides()
            .withFallback(ConfigFactory.defaultApplication())
            .withFallback(ConfigFactory.defaultReference()));
  }
}
