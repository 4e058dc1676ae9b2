package io.flotilla.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/compose.yaml: the services a cluster needs are there, the Flotilla containers run commands
 * that parse and read only settings the nodes know, and the addresses they dial (seeds, database,
 * chain) are the services defined next to them.
 */
class ComposeFileTest {

  private static final Path COMPOSE = NodeEnvironment.MODULE.resolve("compose.yaml");
  private static final Pattern EXEC_FLOTILLA =
      Pattern.compile("(?m)^\\s*(?:exec\\s+)?/opt/flotilla/bin/flotilla\\s+([^|\\\\\\n]+)");
  private static Map<String, Map<String, Object>> services;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void parse() throws IOException {
    // SnakeYAML resolves the "<<: *node" merge keys the way Compose does.
    Map<String, Object> compose = new Yaml().load(Files.readString(COMPOSE));
    services = (Map<String, Map<String, Object>>) compose.get("services");
  }

  @Test
  void theClusterIsComplete() {
    assertThat(services)
        .containsKeys("seed", "scheduler", "ledger", "worker", "postgres", "ganache");
    Map<String, Object> deploy = map(services.get("worker"), "deploy");
    assertThat(String.valueOf(deploy.get("replicas")))
        .matches("\\d+|\\$\\{FLOTILLA_WORKERS:-\\d+}");
    for (String node : flotillaServices()) {
      Map<String, Object> build = map(services.get(node), "build");
      Path dockerfile =
          COMPOSE
              .getParent()
              .resolve((String) build.get("context"))
              .resolve((String) build.get("dockerfile"))
              .normalize();
      assertThat(dockerfile)
          .as(node + " Dockerfile")
          .isEqualTo(NodeEnvironment.MODULE.resolve("docker/Dockerfile"));
    }
  }

  @Test
  void flotillaCommandsParse() {
    List<List<String>> commands = new ArrayList<>();
    for (String node : flotillaServices()) {
      Map<String, Object> s = services.get(node);
      List<String> command = strings(s.get("command"));
      if (s.get("entrypoint") == null) {
        commands.add(command);
      } else {
        assertThat(strings(s.get("entrypoint"))).isEqualTo(List.of("/bin/sh", "-c"));
        Matcher m = EXEC_FLOTILLA.matcher(command.get(0));
        int found = 0;
        while (m.find()) {
          commands.add(Arrays.asList(m.group(1).trim().split("\\s+")));
          found++;
        }
        assertThat(found).as(node + " runs flotilla").isPositive();
        assertThat(command.get(0))
            .as(node + " ends by running the node")
            .containsPattern("exec /opt/flotilla/bin/flotilla (seed|scheduler|worker)");
      }
    }
    assertThat(commands)
        .extracting(c -> c.get(0))
        .contains("seed", "scheduler", "worker", "ledger");
    commands.forEach(NodeEnvironment::parseCommand);
  }

  @Test
  void everyEnvironmentVariableIsOneTheNodesRead() {
    for (String node : flotillaServices()) {
      for (String name : environment(node).keySet()) {
        assertThat(NodeEnvironment.variables()).as(node + ": no node reads " + name).contains(name);
      }
    }
  }

  @Test
  void seedsAreServicesThatCallThemselvesByThatName() {
    for (String node : flotillaServices()) {
      String seeds = environment(node).get("FLOTILLA_SEEDS");
      assertThat(seeds).as(node + " FLOTILLA_SEEDS").isNotBlank();
      for (String seed : seeds.split(",")) {
        String host = seed.substring(0, seed.indexOf(':'));
        int port = Integer.parseInt(seed.substring(seed.indexOf(':') + 1));
        assertThat(services).as("seed " + seed + " is a service").containsKey(host);
        Map<String, String> env = environment(host);
        assertThat(env.get("FLOTILLA_HOST")).as(host + " FLOTILLA_HOST").isEqualTo(host);
        assertThat(
                Integer.parseInt(
                    env.getOrDefault(
                        "FLOTILLA_PORT", NodeEnvironment.defaultOf("flotilla.gossip.port"))))
            .isEqualTo(port);
        assertThat(strings(services.get(host).get("command")).get(0)).isEqualTo("seed");
      }
    }
  }

  @Test
  void theSchedulerJournalsToThePostgresService() throws ClassNotFoundException {
    Map<String, String> env = environment("scheduler");
    // Compose turns "$$" into "$".
    assertThat(env.get("FLOTILLA_DB_PROFILE").replace("$$", "$"))
        .isEqualTo("slick.jdbc.PostgresProfile$");
    Class.forName(env.get("FLOTILLA_DB_DRIVER"));
    URI url = URI.create(env.get("FLOTILLA_DB_URL").substring("jdbc:".length()));
    assertThat(url.getScheme()).isEqualTo("postgresql");
    assertThat(services).containsKey(url.getHost());
    Map<String, String> postgres = stringMap(map(services.get(url.getHost()), "environment"));
    assertThat(url.getPath()).isEqualTo("/" + postgres.get("POSTGRES_DB"));
    assertThat(env.get("FLOTILLA_DB_USER")).isEqualTo(postgres.get("POSTGRES_USER"));
    assertThat(env.get("FLOTILLA_DB_PASSWORD")).isEqualTo(postgres.get("POSTGRES_PASSWORD"));
    assertThat(map(services.get("scheduler"), "depends_on")).containsKey(url.getHost());
  }

  @Test
  void theLedgerSettlesOnTheGanacheService() {
    Map<String, String> env = environment("ledger");
    assertThat(env.get("FLOTILLA_LEDGER_BACKEND")).isEqualTo("ethereum");
    URI rpc = URI.create(env.get("FLOTILLA_ETH_RPC_URL"));
    assertThat(services).containsKey(rpc.getHost());
    assertThat(strings(services.get(rpc.getHost()).get("command")))
        .contains("--server.port=" + rpc.getPort(), "--server.host=0.0.0.0");
    assertThat(strings(services.get("ledger").get("command")).get(0))
        .contains("seed --role ledger");
  }

  @Test
  void dependenciesOnHealthNeedAHealthCheck() throws IOException {
    String dockerfile = Files.readString(NodeEnvironment.MODULE.resolve("docker/Dockerfile"));
    for (Map.Entry<String, Map<String, Object>> s : services.entrySet()) {
      Object dependsOn = s.getValue().get("depends_on");
      if (!(dependsOn instanceof Map<?, ?> deps)) {
        continue;
      }
      deps.forEach(
          (name, how) -> {
            assertThat(services).containsKey((String) name);
            if ("service_healthy".equals(((Map<?, ?>) how).get("condition"))) {
              boolean flotilla = flotillaServices().contains((String) name);
              assertThat(
                      flotilla
                          ? dockerfile.contains("HEALTHCHECK")
                          : services.get(name).containsKey("healthcheck"))
                  .as(s.getKey() + " waits for " + name + " to be healthy")
                  .isTrue();
            }
          });
    }
  }

  private static List<String> flotillaServices() {
    return services.entrySet().stream()
        .filter(e -> String.valueOf(e.getValue().get("image")).startsWith("flotilla:"))
        .map(Map.Entry::getKey)
        .toList();
  }

  private static Map<String, String> environment(String service) {
    return stringMap(map(services.get(service), "environment"));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertThat(value).as(key).isInstanceOf(Map.class);
    return (Map<String, Object>) value;
  }

  private static Map<String, String> stringMap(Map<String, Object> map) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    map.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  private static List<String> strings(Object value) {
    assertThat(value).isInstanceOf(List.class);
    return ((List<?>) value).stream().map(String::valueOf).toList();
  }
}
