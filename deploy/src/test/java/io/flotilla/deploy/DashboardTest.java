package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web dashboard end to end: a real local cluster (seed, scheduler, four workers) trains a small
 * job placed as 2 stages x 2 replicas, and headless Chromium, run as a separate process, renders
 * the page the scheduler serves. The rendered DOM must show the members, every worker (one of them
 * quarantined), the job with its loss and throughput curves, the plan with the workers it placed,
 * and what the ledger paid each worker; the screenshot Chromium takes is copied to {@code
 * target/dashboard.png} (docs/dashboard.png is one).
 *
 * <p>Needs Debian's {@code chromium} on the PATH (or {@code FLOTILLA_CHROMIUM} naming the browser);
 * without it the test fails and says how to install it.
 */
@ExtendWith(LogCapturingExtension.class)
class DashboardTest {

  static final int STEPS = 24;
  static final int WORKERS = 4;
  static final String TOKEN = "dashboard-token";
  static final String QUARANTINED = "worker-4";
  static final String QUARANTINE_REASON = "held back by the operator for review";

  static final String SPEC =
      TinyAdditionJob.named("dashboard-addition", STEPS)
          .parallelism(2, 2, "1f1b")
          .checkpoint(12, 1)
          .yaml();

  static Config config() {
    return ConfigFactory.parseString(
            """
            flotilla.scheduler.http.single-token = "%s"
            flotilla.scheduler.http.single-token-team = "vision"
            flotilla.scheduler.jobs.step-timeout-min = 60s
            flotilla.worker.pipeline.receive-timeout = 20s
            """
                .formatted(TOKEN))
        .withFallback(LocalCluster.demoConfig());
  }

  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void headlessChromiumShowsTheClusterTheJobItsPlanAndPayments(@TempDir Path tmp) throws Exception {
    String chromium = chromium();
    try (LocalCluster cluster = LocalCluster.start(config(), WORKERS, false, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(90))).as("cluster ready").isTrue();
      String api = cluster.scheduler().apiUrl().orElseThrow();
      Jobs jobs = cluster.scheduler().jobs();
      TestProbe<Object> probe = TestProbe.create(cluster.scheduler().node().system());

      HttpResponse<String> created =
          CLIENT.send(
              authorized(api + "/jobs")
                  .header("Content-Type", "application/yaml")
                  .POST(HttpRequest.BodyPublishers.ofString(SPEC))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String id = JSON.readTree(created.body()).path("id").asText();

      // Completed, and every step of every worker paid, so the page has settled numbers to show.
      JobView done =
          probe.awaitAssert(
              Duration.ofMinutes(5),
              Duration.ofMillis(100),
              () -> {
                JobView v = get(jobs, id);
                assertThat(v.phase())
                    .as("job %s (%s)", id, v.failureReason())
                    .isEqualTo(JobView.Phase.COMPLETED);
                assertThat(v.payments()).hasSize(WORKERS);
                v.payments().values().forEach(p -> assertThat(p.receipts()).isEqualTo(STEPS));
                return v;
              });
      quarantine(cluster, QUARANTINED, QUARANTINE_REASON);
      probe.awaitAssert(
          Duration.ofSeconds(10),
          () ->
              assertThat(getJson(api + "/cluster", false).toString()).contains(QUARANTINE_REASON));

      JsonNode detail = getJson(api + "/jobs/" + id, true);
      JsonNode metrics = getJson(api + "/jobs/" + id + "/metrics", true);
      assertThat(metrics.path("steps")).hasSize(STEPS);
      String page = api + "/#token=" + TOKEN + "&job=" + id;

      String dom =
          run(
              chromium,
              tmp,
              "--virtual-time-budget=15000",
              "--window-size=1400,1000",
              "--dump-dom",
              page);
      assertThat(dom).contains("data-state=\"ready\"");
      assertThat(section(dom, "status", "p")).doesNotContain("class=\"error\"");
      assertThat(dom).as("the token leaves the address bar, not the page").doesNotContain(TOKEN);

      String members = section(dom, "members");
      assertThat(count(members, "<tr>")).as("members rows").isEqualTo(2 + WORKERS + 1);
      assertThat(members)
          .contains(cluster.scheduler().node().address().toString(), "scheduler", "ledger", "Up");

      String workers = section(dom, "workers");
      for (int i = 1; i <= WORKERS; i++) {
        assertThat(workers).contains("data-worker=\"worker-" + i + "\"");
      }
      assertThat(workers).contains("quarantined", QUARANTINE_REASON, "cpu");

      String jobList = section(dom, "jobs");
      assertThat(jobList).contains(id, "dashboard-addition", "completed", STEPS + " / " + STEPS);

      assertThat(dom).contains("<span id=\"job-id\">" + id + "</span>");
      double lastLoss = metrics.path("steps").get(STEPS - 1).path("loss").asDouble();
      assertThat(lastLoss).isEqualTo(done.lastLoss());
      assertThat(section(dom, "job-facts", "p")).contains("last loss " + fixed(lastLoss, 4));
      assertThat(dom)
          .contains("data-series=\"loss\" data-points=\"" + STEPS + "\"")
          .contains("data-series=\"throughput\" data-points=\"" + STEPS + "\"");
      // Every step's loss is a point of the curve, in the page as the API sent it.
      for (JsonNode step : metrics.path("steps")) {
        assertThat(dom)
            .contains(
                "data-step=\""
                    + step.path("step").asLong()
                    + "\" data-value=\""
                    + jsNumber(step.path("loss").asDouble())
                    + "\"");
      }

      String plan = section(dom, "plan");
      assertThat(plan).contains("replica 0", "replica 1", "data-stage=\"0\"", "data-stage=\"1\"");
      Set<String> placed = new HashSet<>();
      for (JsonNode stage : detail.path("plan").path("stages")) {
        for (JsonNode p : stage.path("workers")) {
          placed.add(p.path("worker_id").asText());
        }
      }
      assertThat(placed).hasSize(WORKERS);
      placed.forEach(w -> assertThat(plan).contains("data-worker=\"" + w + "\">" + w));

      String payments = section(dom, "payments");
      String jobPayments = section(dom, "job-workers");
      List<String> paid = new ArrayList<>();
      detail
          .path("payments")
          .path("workers")
          .properties()
          .forEach(
              e -> {
                String amount =
                    new BigDecimal(e.getValue().path("amount").asText())
                            .stripTrailingZeros()
                            .toPlainString()
                        + " credits";
                paid.add(e.getKey());
                assertThat(payments)
                    .contains(e.getKey(), e.getValue().path("address").asText(), amount);
                assertThat(jobPayments).contains(e.getKey(), amount);
              });
      assertThat(paid).hasSize(WORKERS);

      Path png = tmp.resolve("dashboard.png");
      run(
          chromium,
          tmp,
          "--virtual-time-budget=15000",
          "--window-size=1400,1000",
          "--hide-scrollbars",
          "--screenshot=" + png,
          page);
      assertThat(png).exists();
      assertThat(Files.size(png)).as("screenshot bytes").isGreaterThan(30_000);
      BufferedImage image = ImageIO.read(png.toFile());
      assertThat(image.getWidth()).isEqualTo(1400);
      assertThat(image.getHeight()).isEqualTo(1000);
      assertThat(distinctColours(image)).as("colours in the screenshot").isGreaterThan(50);
      Path target = Path.of("target", "dashboard.png");
      Files.createDirectories(target.getParent());
      Files.copy(png, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The browser: {@code FLOTILLA_CHROMIUM}, else {@code chromium} on the PATH; fails without. */
  static String chromium() {
    String given = System.getenv("FLOTILLA_CHROMIUM");
    if (given != null && !given.isBlank()) {
      assertThat(new File(given)).as("FLOTILLA_CHROMIUM=%s", given).canRead();
      return given;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File candidate = new File(dir, "chromium");
      if (candidate.canExecute()) {
        return candidate.getPath();
      }
    }
    return fail(
        "DashboardTest needs headless Chromium and found no 'chromium' on the PATH. Install it"
            + " (Debian: 'apt-get install chromium'; .ci/run does that when it is missing), or"
            + " set FLOTILLA_CHROMIUM to the browser's path.");
  }

  /** Runs headless Chromium on {@code args} with its own profile; returns its standard output. */
  private static String run(String chromium, Path tmp, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(chromium);
    command.add("--headless=new");
    command.add("--no-sandbox"); // the tests may run as root, where the sandbox refuses to start
    command.add("--disable-gpu");
    command.add("--no-first-run");
    command.add("--disable-extensions");
    command.add("--user-data-dir=" + Files.createTempDirectory(tmp, "chromium-profile"));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "chromium", ".out");
    Path err = Files.createTempFile(tmp, "chromium", ".err");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      fail("chromium did not finish within 120 s: %s%n%s", command, tail(err));
    }
    assertThat(process.exitValue()).as("chromium exit code: %s%n%s", command, tail(err)).isZero();
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  private static String tail(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
  }

  /** The element with {@code id} (a table unless said otherwise), as the DOM dump has it. */
  private static String section(String dom, String id) {
    return section(dom, id, "table");
  }

  private static String section(String dom, String id, String tag) {
    Matcher m =
        Pattern.compile(
                "<" + tag + "[^>]*\\bid=\"" + Pattern.quote(id) + "\"[^>]*>.*?</" + tag + ">",
                Pattern.DOTALL)
            .matcher(dom);
    assertThat(m.find()).as("<%s id=%s> in the page", tag, id).isTrue();
    return m.group();
  }

  private static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }

  /** {@code v} as JavaScript's {@code toFixed(digits)} writes it (exact value, ties up). */
  private static String fixed(double v, int digits) {
    return new BigDecimal(v).setScale(digits, RoundingMode.HALF_UP).toPlainString();
  }

  /** {@code v} as JavaScript's {@code String(v)} writes it, for values in 1e-6..1e21. */
  private static String jsNumber(double v) {
    return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  private static int distinctColours(BufferedImage image) {
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 3) {
      for (int x = 0; x < image.getWidth(); x += 3) {
        colours.add(image.getRGB(x, y));
      }
    }
    return colours.size();
  }

  private static void quarantine(LocalCluster cluster, String worker, String reason)
      throws Exception {
    var system = cluster.scheduler().node().system();
    StatusReply<Done> reply =
        AskPattern.<ReputationRegistry.Command, StatusReply<Done>>ask(
                cluster.scheduler().node().reputation(),
                replyTo -> new ReputationRegistry.Quarantine(worker, reason, replyTo),
                Duration.ofSeconds(10),
                system.scheduler())
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS);
    assertThat(reply.isSuccess()).as("quarantine %s", worker).isTrue();
  }

  private static JobView get(Jobs jobs, String id) {
    try {
      return jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static HttpRequest.Builder authorized(String url) {
    return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN);
  }

  private static JsonNode getJson(String url, boolean withToken) throws Exception {
    HttpRequest.Builder request =
        withToken ? authorized(url) : HttpRequest.newBuilder(URI.create(url));
    HttpResponse<String> r = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
