package io.flotilla.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * deploy/systemd: the unit runs the distribution's worker command with the settings file the
 * volunteer edits, stops it gracefully, and the example settings are all ones a node reads.
 * (systemd-analyze verify runs on the unit in SystemdVerifyIT, after the distribution is built.)
 */
class SystemdUnitTest {

  private static final Path DIR = NodeEnvironment.MODULE.resolve("systemd");

  @Test
  void theUnitRunsAWorkerThatLeavesGracefully() throws IOException {
    Map<String, Map<String, String>> unit = parseUnit(DIR.resolve("flotilla-worker.service"));
    assertThat(unit).containsOnlyKeys("Unit", "Service", "Install");
    Map<String, String> service = unit.get("Service");
    List<String> exec = Arrays.asList(service.get("ExecStart").split("\\s+"));
    assertThat(exec.get(0)).isEqualTo("/opt/flotilla/bin/flotilla");
    assertThat(exec.get(1)).isEqualTo("worker");
    NodeEnvironment.parseCommand(exec.subList(1, exec.size()));
    assertThat(service.get("EnvironmentFile")).isEqualTo("/etc/flotilla/worker.env");
    assertThat(service.get("User")).isNotBlank().isNotEqualTo("root");
    assertThat(service.get("KillSignal")).isEqualTo("SIGTERM");
    assertThat(Integer.parseInt(service.get("TimeoutStopSec"))).isGreaterThanOrEqualTo(30);
    assertThat(service.get("SuccessExitStatus")).contains("143");
    assertThat(service).containsKeys("CPUQuota", "MemoryMax", "Restart");
    assertThat(unit.get("Install").get("WantedBy")).isEqualTo("multi-user.target");
  }

  @Test
  void theExampleSettingsAreOnesTheWorkerReads() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(DIR.resolve("flotilla-worker.env.example"))) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      assertThat(l).as("KEY=value line").matches("[A-Z][A-Z0-9_]*=\\S.*");
      env.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1));
    }
    assertThat(NodeEnvironment.variables()).containsAll(env.keySet());
    assertThat(env).containsKeys("FLOTILLA_SEEDS", "FLOTILLA_HOST", "FLOTILLA_WORKER_CORES");
    for (String seed : env.get("FLOTILLA_SEEDS").split(",")) {
      assertThat(seed).matches("[A-Za-z0-9.-]+:\\d{1,5}");
    }
  }

  /** Sections and their keys (a repeated key keeps its last value, as systemd does). */
  static Map<String, Map<String, String>> parseUnit(Path file) throws IOException {
    Map<String, Map<String, String>> sections = new LinkedHashMap<>();
    Map<String, String> current = null;
    for (String line : Files.readAllLines(file)) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
        continue;
      }
      if (l.startsWith("[")) {
        assertThat(l).matches("\\[[A-Za-z]+]");
        current =
            sections.computeIfAbsent(l.substring(1, l.length() - 1), k -> new LinkedHashMap<>());
        continue;
      }
      assertThat(current).as("key outside a section: " + l).isNotNull();
      assertThat(l).as("Key=value").matches("[A-Za-z]+=.*");
      current.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1));
    }
    return sections;
  }
}
