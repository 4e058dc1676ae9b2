package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.deploy.cli.FlotillaCommand;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.protocol.NodeRole;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
          {"cluster", "quarantine", "--help"},
          {"cluster", "unquarantine", "--help"},
          {"demo", "--help"},
          {"bench", "--help"},
          {"bench", "cluster", "--help"},
          {"bench", "engine", "--help"},
          {"bench", "transport", "--help"},
          {"bench", "pipeline", "--help"},
          {"plan", "--help"},
          {"ledger", "--help"},
          {"train-local", "--help"},
          {"model", "--help"},
          {"model", "eval", "--help"},
          {"model", "export", "--help"},
          {"submit", "--help"},
          {"jobs", "--help"},
          {"job", "--help"},
          {"cancel", "--help"},
          {"fetch", "--help"}
        }) {
      assertThat(FlotillaCommand.execute(args)).as(String.join(" ", args)).isZero();
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--seed=HOST:PORT", "--config=FILE", "--follow", "--token=TOKEN")
        .contains("train-local", "JOB.yaml", "--checkpoint=<checkpoint>")
        .contains("engine", "transport");
  }

  @Test
  void badSeedIsBadUsage() {
    assertThat(FlotillaCommand.execute("worker", "--seed", "nohost", "--no-http")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("'nohost' is not of the form host:port");
  }

  @Test
  void workerBackendOptionIsValidated() {
    assertThat(FlotillaCommand.execute("worker", "--backend", "rocm", "--no-http")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--backend: unknown backend 'rocm'; allowed: cpu, cuda, auto");
    assertThat(FlotillaCommand.execute("worker", "--precision", "fp8", "--no-http")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("allowed: fp32, tf32");
  }

  @Test
  void workerOnCudaWithoutAGpuIsBadUsageWithoutAStackTrace() {
    io.flotilla.engine.backend.cuda.CudaProbe.Result cuda =
        io.flotilla.engine.backend.cuda.CudaProbe.probeOnce();
    org.junit.jupiter.api.Assumptions.assumeFalse(cuda.available(), "a GPU is usable here");
    assertThat(FlotillaCommand.execute("worker", "--backend", "cuda", "--no-http")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).strip())
        .isEqualTo(
            "error: backend cuda requested but CUDA is not usable: "
                + cuda.reason()
                + " (use --backend cpu or auto)");
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
  void badFaultOptionsAreBadUsage() {
    assertThat(
            FlotillaCommand.execute(
                "worker", "--seed", "127.0.0.1:1", "--no-http", "--fault", "flip"))
        .isEqualTo(2);
    assertThat(
            FlotillaCommand.execute(
                "worker",
                "--seed",
                "127.0.0.1:1",
                "--no-http",
                "--fault",
                "noise",
                "--fault-rate",
                "1.5"))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(
            "unknown fault mode 'flip'; allowed: none, noise, flip-signs, scale, zeros, stale,"
                + " delay, crash, lie-capabilities")
        .contains("--fault-rate must be > 0 and <= 1, was 1.5");
    assertThat(
            FlotillaCommand.execute(
                "worker", "--seed", "127.0.0.1:1", "--no-http", "--fault-target", "weights"))
        .isEqualTo(2);
    assertThat(FlotillaCommand.execute("bench", "verification", "--shares", "0.1,1.5"))
        .isEqualTo(2);
    assertThat(FlotillaCommand.execute("bench", "verification", "--redundancy", "7")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown fault target 'weights'; allowed: parameters, gradients")
        .contains("every --shares value must be in [0, 1), was 1.5")
        .contains("--redundancy 7:");
  }

  @Test
  void badLoadTestOptionsAreBadUsageNamingWhatIsAllowed() {
    assertThat(FlotillaCommand.execute("loadtest", "stedy")).isEqualTo(2);
    assertThat(FlotillaCommand.execute("loadtest", "steady", "--duration", "abc")).isEqualTo(2);
    assertThat(FlotillaCommand.execute("loadtest", "steady", "--warmup", "-5s")).isEqualTo(2);
    assertThat(FlotillaCommand.execute("loadtest", "steady", "--faulty", "2")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown scenario 'stedy'; allowed: steady, burst, join")
        .contains("--duration 'abc' is not a duration; allowed: a number and a unit")
        .contains("--warmup and --duration must not be negative")
        .contains("--faulty must be in 0..1, was 2.0")
        .doesNotContain("Exception");
  }

  @Test
  void statusShowsQuarantinedWorkersWithTheReason() throws Exception {
    FlotillaNode seed =
        FlotillaNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .port(0)
                .httpEnabled(true)
                .httpPort(0)
                .set("pekko.management.http.route-providers-read-only", false)
                .over(
                    com.typesafe.config.ConfigFactory.parseString(
                        "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on")));
    try {
      assertThat(seed.awaitUp(Duration.ofSeconds(20))).isTrue();
      TestProbe<StatusReply<Done>> ack = TestProbe.create(seed.system());
      seed.reputation().tell(new ReputationRegistry.RecordValid("honest-1", ack.ref()));
      assertThat(ack.receiveMessage(Duration.ofSeconds(5)).isSuccess()).isTrue();
      String url = seed.httpUri().orElseThrow();
      assertThat(
              FlotillaCommand.execute(
                  "cluster", "quarantine", "cheater-1", "--reason", "flipped signs", "--url", url))
          .isZero();
      assertThat(
              FlotillaCommand.execute(
                  "cluster", "unquarantine", "honest-1", "--reason", "why", "--url", url))
          .isEqualTo(1);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("answered 409: worker honest-1 is not quarantined");
      ack.awaitAssert(
          Duration.ofSeconds(10),
          Duration.ofMillis(200),
          () -> {
            out.reset();
            assertThat(FlotillaCommand.execute("cluster", "status", "--url", url)).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("Quarantined workers (1)")
                .containsPattern("cheater-1 +\\S+ +0 +0 +flipped signs")
                .doesNotContain("honest-1");
            return null;
          });
      out.reset();
      assertThat(FlotillaCommand.execute("cluster", "status", "--json", "--url", url)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8))
          .contains("\"quarantined\"", "\"quarantineReason\" : \"flipped signs\"");
    } finally {
      seed.close();
    }
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
  void demoStartsAClusterTrainsOnItsWorkersAndSavesTheModel(@TempDir Path outDir) {
    assertThat(
            FlotillaCommand.execute(
                "demo", "--workers", "4", "--steps", "3", "--out", outDir.toString()))
        .isZero();
    // The trained model was exported: Hugging Face layout with weights and config.
    assertThat(outDir.resolve("model/model.safetensors")).isNotEmptyFile();
    assertThat(outDir.resolve("model/config.json")).isNotEmptyFile();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "All 6 nodes Up and 4 workers registered",
            "worker-1",
            "worker-4",
            "scheduler",
            "step 3/3",
            "Held-out exact-match accuracy",
            "Work per worker");
  }

  @Test
  void badDemoDisruptionsAreBadUsageNamingWhatIsAllowed() {
    String[][] cases = {
      {"--faulty", "-1"},
      {"--faulty", "2"},
      {"--churn", "--churn-every", "0"},
      {"--churn", "--steps", "40", "--churn-every", "40"},
      {"--churn-every", "5"},
      {"--churn", "--steps", "1"},
      {"--faulty", "1", "--steps", "0"},
      {"--faulty", "1", "--processes"},
      {"--faulty", "1", "--workers", "6"},
    };
    for (String[] args : cases) {
      String[] command = new String[args.length + 1];
      command[0] = "demo";
      System.arraycopy(args, 0, command, 1, args.length);
      assertThat(FlotillaCommand.execute(command)).as(String.join(" ", command)).isEqualTo(2);
    }
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--faulty must be >= 0 (the number of workers that misbehave), was -1")
        .contains(
            "--faulty must be in 0..1, was 2: each stage runs 3 replicas, and a majority of 3"
                + " outvotes at most 1 faulty replica")
        .contains(
            "--churn-every must be in 1..699 (completed steps between two kills, fewer than"
                + " --steps 700), was 0")
        .contains("--churn-every must be in 1..39")
        .contains("--churn-every is the interval of --churn; add --churn")
        .contains("--churn needs at least 2 steps")
        .contains("--faulty needs training; --steps must be > 0")
        .contains("leave out --processes")
        .contains(
            "--workers must be in 7..32 with --faulty 1, was 6: 6 placed (2 stages x 3 replicas)"
                + " and 1 to replace the faulty once quarantined");
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("Starting a local cluster");
  }

  @Test
  void demoWithAFaultyWorkerAndChurnReportsWhoWasCaughtKilledAndReplaced(@TempDir Path outDir) {
    assertThat(
            FlotillaCommand.execute(
                "demo",
                "--faulty",
                "1",
                "--churn",
                "--steps",
                "16",
                "--churn-every",
                "6",
                "--out",
                outDir.toString()))
        .as("%s", err)
        .isZero();
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains(
            "The job runs 2 stages x 3 replicas (global batch 96) on these 6 workers;"
                + " worker-7 joins as a spare",
            "Faulty (fault mode noise, they do not say so): worker-6",
            "step 16/16",
            "Held-out exact-match accuracy",
            "Payments (embedded ledger)")
        // The vote caught the noisy worker, the registry quarantined it, and it was replaced.
        .containsPattern("worker-6 +yes +\\d+ +yes +\\d+ invalid results \\(threshold 3\\)")
        .containsPattern("placed again: worker-6 out, worker-\\d+ in")
        // Two kills (after 6 and 12 steps), each of an honest worker, each reported with its
        // replacement and followed by a placement without it.
        .contains("Workers killed")
        .containsPattern("(?m)^  (6|7|8|9|10|11)\\s+worker-[1-57]\\s+\\d\\s+\\d\\s+worker-8$")
        .containsPattern("(?m)^  1[2-5]\\s+worker-\\d+\\s+\\d\\s+\\d\\s+worker-9$")
        // The journal names the loss: the registry dropped the killed worker, or its stage host's
        // death watch fired; both follow the same membership removal, so either may come first.
        .containsPattern("worker worker-\\d+ (left the cluster|stopped)");
    assertThat(outDir.resolve("verification.jsonl")).isNotEmptyFile();
  }

  @Test
  void trainLocalReportsEverySpecErrorWithItsPath(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path spec = dir.resolve("bad.yaml");
    java.nio.file.Files.writeString(
        spec,
        "name: bad\nmodel: {type: gpt, layers: 1, width: 8, heads: 2, context: 12}\n"
            + "dataset: {type: addition, options: {eval_samples: 10}}\n"
            + "training: {steps: 0, global_batch: 4}\n");
    assertThat(FlotillaCommand.execute("train-local", spec.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("invalid job spec (2 errors)")
        .contains("dataset.options.eval_samples: unknown field")
        .contains("line 4: training.steps: must be an integer in 1..100000000; got 0");
  }
}
