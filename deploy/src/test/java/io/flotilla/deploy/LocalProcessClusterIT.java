package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One seed and two workers as separate JVM processes started through the built distribution's
 * {@code bin/flotilla}, all seen Up through {@code flotilla cluster status --json}, then a
 * scheduler that joins later and receives the workers' registrations from their nodes; stopped with
 * SIGTERM (graceful leave), with every process gone afterwards, also when the test fails.
 */
class LocalProcessClusterIT {

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(150);

  private final List<Process> processes = new ArrayList<>();
  private final Path dist =
      Path.of(System.getProperty("flotilla.dist.dir", "target/dist/flotilla"));
  private final Path logs = Path.of("target", "it-logs");

  @AfterEach
  void killLeftovers() throws InterruptedException {
    List<Process> reversed = new ArrayList<>(processes);
    Collections.reverse(reversed);
    for (Process p : reversed) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Process flotilla(String name, String... args) throws IOException {
    return flotilla(name, java.util.Map.of(), args);
  }

  private Process flotilla(String name, java.util.Map<String, String> env, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(dist.resolve("bin/flotilla").toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xmx192m -XX:TieredStopAtLevel=1");
    pb.environment().remove("FLOTILLA_SEEDS");
    pb.environment().putAll(env);
    Files.createDirectories(logs);
    File log = logs.resolve(name + ".log").toFile();
    pb.redirectErrorStream(true).redirectOutput(log);
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  private JsonNode statusJson(int httpPort) throws Exception {
    Path out = Files.createTempFile(logs, "status", ".json");
    ProcessBuilder pb =
        new ProcessBuilder(
            dist.resolve("bin/flotilla").toString(),
            "cluster",
            "status",
            "--json",
            "--url",
            "http://127.0.0.1:" + httpPort);
    pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xmx64m -XX:TieredStopAtLevel=1");
    Process p =
        pb.redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("cluster status finished").isTrue();
    String body = Files.readString(out, StandardCharsets.UTF_8);
    Files.delete(out);
    if (p.exitValue() != 0) {
      return null;
    }
    return new ObjectMapper().readTree(body);
  }

  /** The status once {@code members} are Up and, with a scheduler among them, 2 workers shown. */
  private JsonNode awaitStatus(int seedHttp, int members) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    JsonNode status = null;
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        assertThat(p.isAlive()).as("node process alive (see target/it-logs)").isTrue();
      }
      status = statusJson(seedHttp);
      if (status != null
          && upCount(status) == members
          && status.path("workers").size() == (members > 3 ? 2 : 0)) {
        break;
      }
    }
    assertThat(status).as("cluster status --json answered").isNotNull();
    return status;
  }

  @Test
  void seedAndTwoWorkerProcessesJoinAndStopCleanly() throws Exception {
    assertThat(dist.resolve("bin/flotilla")).as("distribution built by mvn package").isExecutable();
    int seedPort = freePort();
    int seedHttp = freePort();
    String seed = "127.0.0.1:" + seedPort;
    flotilla("seed", "seed", "--port", "" + seedPort, "--http-port", "" + seedHttp);
    flotilla(
        "worker-1",
        "worker",
        "--seed",
        seed,
        "--id",
        "w1",
        "--port",
        "0",
        "--data-port",
        "0",
        "--no-http");
    flotilla(
        "worker-2",
        "worker",
        "--seed",
        seed,
        "--id",
        "w2",
        "--port",
        "0",
        "--data-port",
        "0",
        "--no-http");

    JsonNode status = awaitStatus(seedHttp, 3);
    assertThat(upCount(status)).as("members Up in %s", status).isEqualTo(3);
    // No scheduler node yet: nobody keeps the registry, the workers' nodes hold their entries.
    assertThat(status.path("workers")).isEmpty();

    Path data = Files.createTempDirectory(logs, "scheduler-data");
    flotilla(
        "scheduler",
        java.util.Map.of(
            "FLOTILLA_API_PORT", "" + freePort(),
            "FLOTILLA_SCHEDULER_DATA_DIR", data.resolve("journal").toString(),
            "FLOTILLA_CHECKPOINT_DIR", data.resolve("checkpoints").toString(),
            "FLOTILLA_LEDGER_PATH", data.resolve("ledger").toString()),
        "scheduler",
        "--seed",
        seed,
        "--port",
        "0",
        "--no-http");
    status = awaitStatus(seedHttp, 4);
    assertThat(upCount(status)).as("members Up in %s", status).isEqualTo(4);
    List<String> workerIds = new ArrayList<>();
    status.path("workers").forEach(w -> workerIds.add(w.path("workerId").asText()));
    assertThat(workerIds).containsExactly("w1", "w2");
    status.path("members").forEach(m -> assertThat(m.path("reachable").asBoolean()).isTrue());

    // Graceful stop: SIGTERM runs coordinated shutdown (leave, then exit), workers first.
    List<Process> reversed = new ArrayList<>(processes);
    Collections.reverse(reversed);
    for (Process p : reversed) {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("process stopped after SIGTERM").isTrue();
      assertThat(p.descendants().filter(ProcessHandle::isAlive).count()).isZero();
    }
    String seedLog = Files.readString(logs.resolve("seed.log"));
    assertThat(seedLog).contains("Joined the Flotilla cluster");
  }

  private static int upCount(JsonNode status) {
    int up = 0;
    for (JsonNode m : status.path("members")) {
      if (m.path("status").asText().equals("Up")) {
        up++;
      }
    }
    return up;
  }
}
