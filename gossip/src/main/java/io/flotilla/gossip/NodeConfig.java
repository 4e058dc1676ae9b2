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
   * The overrides over {@code application} (an unresolved application-level config: the
   * application.conf with its environment overrides, or a test's config), over Flotilla's Pekko
   * defaults ({@code pekko-defaults.conf}), over the libraries' reference configs; resolved.
   */
  public Config over(Config application) {
    Config layered =
        ConfigFactory.parseMap(overrides)
            .withFallback(application)
            .withFallback(ConfigFactory.parseResources(NodeConfig.class, "pekko-defaults.conf"))
            .withFallback(ConfigFactory.defaultReference());
    Config resolved = layered.resolve();
    Map<String, Object> derived = new HashMap<>();
    derived.put(
        "pekko.cluster.roles",
        ConfigValueFactory.fromIterable(
            GossipSettings.parseRoles(resolved.getString("flotilla.gossip.roles")).stream()
                .map(NodeRole::roleName)
                .toList()));
    return ConfigFactory.parseMap(derived).withFallback(layered).resolve();
  }

  /** The overrides over the application config on the class path (application.conf, -D). */
  public Config overDefaults() {
    return over(
        ConfigFactory.defaultOverrides()
            .withFallback(ConfigFactory.defaultApplication())
            .withFallback(ConfigFactory.defaultReference()));
  }
}
