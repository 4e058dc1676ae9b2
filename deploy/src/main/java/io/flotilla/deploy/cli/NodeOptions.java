package io.flotilla.deploy.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.protocol.NodeRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * Options every node command shares. Precedence, highest first: these options, {@code -D} system
 * properties, {@code FLOTILLA_*} environment variables, the {@code --config} file, the built-in
 * configuration.
 */
public final class NodeOptions {

  @Option(
      names = "--seed",
      paramLabel = "HOST:PORT",
      description =
          "Seed node to join through; repeat for several. Default: FLOTILLA_SEEDS"
              + " (comma separated) or flotilla.gossip.seeds.")
  List<String> seeds = new ArrayList<>();

  @Option(
      names = "--host",
      description = "Address other nodes reach this node at. Default: FLOTILLA_HOST or 127.0.0.1.")
  String host;

  @Option(
      names = "--port",
      description =
          "Cluster (Artery TCP) port; 0 picks a free one. Default: FLOTILLA_PORT or 2552.")
  Integer port;

  @Option(
      names = "--http-port",
      description =
          "Port of the health/status HTTP endpoint; 0 picks a free one. Default: FLOTILLA_HTTP_PORT"
              + " or 8558.")
  Integer httpPort;

  @Option(names = "--no-http", description = "Do not serve the HTTP endpoint.")
  boolean noHttp;

  @Option(
      names = "--role",
      paramLabel = "ROLE",
      description = "Additional role (scheduler, worker, ledger, seed); repeatable.")
  List<String> extraRoles = new ArrayList<>();

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file with settings (see conf/flotilla.conf.example).")
  Path configFile;

  /**
   * The node's resolved config with {@code role} plus any {@code --role}.
   *
   * @throws IllegalArgumentException for bad input, naming it
   */
  Config toConfig(NodeRole role) {
    NodeConfig overrides = NodeConfig.overrides();
    Set<NodeRole> roles = EnumSet.of(role);
    extraRoles.forEach(r -> roles.add(NodeRole.parse(r)));
    overrides.roles(roles);
    if (!seeds.isEmpty()) {
      overrides.seeds(seeds.stream().map(SeedAddress::parse).toList());
    }
    if (host != null) {
      overrides.host(host);
    }
    if (port != null) {
      overrides.port(port);
    }
    if (httpPort != null) {
      overrides.httpPort(httpPort);
    }
    if (noHttp) {
      overrides.httpEnabled(false);
    }
    return overrides.over(applicationConfig(configFile));
  }

  /** -D properties over environment over {@code --config} file over application.conf. */
  static Config applicationConfig(Path configFile) {
    Config file = ConfigFactory.empty();
    if (configFile != null) {
      if (!Files.isReadable(configFile)) {
        throw new IllegalArgumentException("--config " + configFile + ": no readable file there");
      }
      try {
        file = ConfigFactory.parseFile(configFile.toFile());
      } catch (com.typesafe.config.ConfigException e) {
        throw new IllegalArgumentException("--config " + configFile + ": " + e.getMessage(), e);
      }
    }
    return ConfigFactory.defaultOverrides()
        .withFallback(ConfigFactory.parseResources("flotilla/environment.conf"))
        .withFallback(file)
        .withFallback(ConfigFactory.parseResources("application.conf"));
  }
}
