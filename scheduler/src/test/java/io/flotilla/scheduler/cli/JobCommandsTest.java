package io.flotilla.scheduler.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code flotilla submit/jobs/job/cancel} against a real scheduler node on loopback. */
@ExtendWith(LogCapturingExtension.class)
@Timeout(120)
class JobCommandsTest {

  @TempDir static Path dataDir;

  private static SchedulerNode scheduler;
  private static String url;

  record Run(int exitCode, String out, String err) {}

  @BeforeAll
  static void start() throws Exception {
    scheduler =
        SchedulerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .set("flotilla.scheduler.persistence.h2-directory", dataDir.toString())
                .set("flotilla.scheduler.http.tokens", Map.of("secret-a", "team-a"))
                .over(GossipTesting.base()));
    assertThat(scheduler.node().awaitUp(Duration.ofSeconds(20))).isTrue();
    url = scheduler.apiUrl().orElseThrow();
  }

  @AfterAll
  static void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
  }

  static Run run(Callable<Integer> command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(command);
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void submitListShowAndCancelAJob() {
    Run submitted =
        run(
            new SubmitCommand(),
            "../examples/addition-gpt.yaml",
            "--url",
            url,
            "--token",
            "secret-a");
    assertThat(submitted.exitCode()).as(submitted.err()).isZero();
    String id = submitted.out().trim();
    assertThat(id).startsWith("j-");

    Run jobs = run(new JobsCommand(), "--url", url, "--token", "secret-a");
    assertThat(jobs.exitCode()).isZero();
    assertThat(jobs.out()).contains("ID", "STATE", id, "addition-gpt", "queued", "0/3000");

    Run job = run(new JobCommand(), id, "--url", url, "--token", "secret-a");
    assertThat(job.exitCode()).isZero();
    assertThat(job.out()).contains("state     queued", "waiting   ");

    Run json = run(new JobCommand(), id, "--json", "--url", url, "--token", "secret-a");
    assertThat(json.exitCode()).isZero();
    assertThat(json.out()).contains("\"id\" : \"" + id + "\"", "\"spec\"");

    Run cancelled = run(new CancelCommand(), id, "--url", url, "--token", "secret-a");
    assertThat(cancelled.exitCode()).isZero();
    assertThat(cancelled.out()).contains(id + " cancelled");

    Run again = run(new CancelCommand(), id, "--url", url, "--token", "secret-a");
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).contains("already cancelled");
  }

  @Test
  void anInvalidSpecExitsWith2ListingEveryError() throws Exception {
    Path invalid = dataDir.resolve("invalid.yaml");
    Files.writeString(
        invalid,
        Files.readString(Path.of("../examples/addition-gpt.yaml"))
            .replace("replicas: 2", "replicas: 0")
            .replace("steps: 3000", "steps: -5"));
    Run run = run(new SubmitCommand(), invalid.toString(), "--url", url, "--token", "secret-a");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("parallelism.replicas", "training.steps");
  }

  @Test
  void withoutATokenOrAReachableSchedulerCommandsFailSayingWhy() throws Exception {
    Run noToken = run(new JobsCommand(), "--url", url);
    assertThat(noToken.exitCode()).isEqualTo(1);
    assertThat(noToken.err()).contains("missing bearer token");

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Run unreachable = run(new JobsCommand(), "--url", "http://127.0.0.1:" + port, "--token", "x");
    assertThat(unreachable.exitCode()).isEqualTo(1);
    assertThat(unreachable.err()).contains("no Flotilla scheduler answers at");

    Run unknown = run(new JobCommand(), "j-none", "--url", url, "--token", "secret-a");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err()).contains("no job j-none");
  }

  @Test
  void submitFollowPrintsStateChangesUntilTheJobEnds() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new SubmitCommand());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    CompletableFuture<Integer> following =
        CompletableFuture.supplyAsync(
            () ->
                cli.execute(
                    "../examples/addition-gpt.yaml",
                    "--follow",
                    "--url",
                    url,
                    "--token",
                    "secret-a"));
    TestProbe<Object> probe = TestProbe.create(scheduler.node().system());
    probe.awaitAssert(
        Duration.ofSeconds(20),
        () -> {
          assertThat(err.toString()).contains(" queued step 0/3000");
          return null;
        });
    String id = out.toString().lines().findFirst().orElseThrow().trim();
    assertThat(run(new CancelCommand(), id, "--url", url, "--token", "secret-a").exitCode())
        .isZero();
    assertThat(following.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(out.toString()).contains(id + " cancelled");
    assertThat(err.toString()).contains(id + " queued step 0/3000", id + " cancelled");
  }
}
