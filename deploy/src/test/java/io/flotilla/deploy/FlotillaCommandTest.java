package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.deploy.cli.FlotillaCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The command line: help, exit codes, clear errors for bad input. */
class FlotillaCommandTest {

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private PrintStream oldErr;
  private PrintStream oldOut;

  @BeforeEach
  void capture() {
    oldErr = System.err;
    oldOut = System.out;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setErr(oldErr);
    System.setOut(oldOut);
  }

  @Test
  void everySubcommandHasHelp() {
    for (String[] args :
        new String[][] {
          {"--help"},
          {"seed", "--help"},
          {"worker", "--help"},
          {"scheduler", "--help"},
          {"cluster", "status", "--help"},
          {"demo", "--help"},
          {"bench", "cluster", "--help"},
          {"submit", "--help"},
          {"jobs", "--help"},
          {"job", "--help"},
          {"cancel", "--help"}
        }) {
      assertThat(FlotillaCommand.execute(args)).as(String.join(" ", args)).isZero();
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--seed=HOST:PORT", "--config=FILE", "--follow", "--token=TOKEN");
  }

  @Test
  void badSeedIsBadUsage() {
    assertThat(FlotillaCommand.execute("worker", "--seed", "nohost", "--no-http")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("'nohost' is not of the form host:port");
  }

  @Test
  void workerWithoutSeedsFailsWithAHint() {
    assertThat(FlotillaCommand.execute("worker", "--no-http", "--port", "0")).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("no seed nodes given", "FLOTILLA_SEEDS");
  }

  @Test
  void portInUseFailsNamingThePort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      assertThat(FlotillaCommand.execute("seed", "--no-http", "--port", "" + port)).isEqualTo(1);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("port " + port + " is already in use");
    }
  }

  @Test
  void missingConfigFileIsBadUsage() {
    assertThat(FlotillaCommand.execute("seed", "--config", "/nonexistent/flotilla.conf"))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("/nonexistent/flotilla.conf");
  }

  @Test
  void statusOfNoNodeFailsNamingTheUrl() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertThat(FlotillaCommand.execute("cluster", "status", "--url", "http://127.0.0.1:" + port))
        .isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("no Flotilla node answers at");
  }

  @Test
  void demoStartsAClusterPrintsItsStatusAndExits() {
    assertThat(FlotillaCommand.execute("demo", "--workers", "2")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("All 4 nodes Up and 2 workers registered", "worker-1", "worker-2", "scheduler");
  }
}
