package io.flotilla.scheduler.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's files and the cluster document on a real scheduler node, over HTTP. */
@ExtendWith(LogCapturingExtension.class)
@Timeout(120)
class DashboardRoutesTest {

  @TempDir static Path dataDir;

  private static SchedulerNode scheduler;
  private static String url;
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    scheduler =
        SchedulerNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.SEED, NodeRole.SCHEDULER))
                .set("flotilla.scheduler.persistence.h2-directory", dataDir.toString())
                .set("flotilla.scheduler.http.tokens", Map.of("token-a", "team-a"))
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

  private static HttpResponse<String> send(String method, String path, String... headers)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      request.headers(headers);
    }
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void thePageAndItsFilesAreServedWithTheirTypesAndRevalidated() throws Exception {
    for (String path : List.of("/", "/dashboard", "/dashboard/", "/dashboard/index.html")) {
      HttpResponse<String> page = send("GET", path);
      assertThat(page.statusCode()).as(path).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=UTF-8");
      assertThat(page.body()).contains("<title>Flotilla dashboard</title>");
    }
    HttpResponse<String> script = send("GET", "/dashboard/dashboard.js");
    assertThat(script.headers().firstValue("Content-Type"))
        .hasValue("application/javascript; charset=UTF-8");
    assertThat(script.body()).contains("/cluster");
    HttpResponse<String> style = send("GET", "/dashboard/dashboard.css");
    assertThat(style.headers().firstValue("Content-Type")).hasValue("text/css; charset=UTF-8");

    HttpResponse<String> page = send("GET", "/");
    assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-cache");
    assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(page.headers().firstValue("Content-Security-Policy"))
        .hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'none'"));
    String etag = page.headers().firstValue("ETag").orElseThrow();
    HttpResponse<String> unchanged = send("GET", "/", "If-None-Match", etag);
    assertThat(unchanged.statusCode()).isEqualTo(304);
    assertThat(unchanged.body()).isEmpty();
  }

  @Test
  void thePageLoadsNothingFromElsewhere() throws Exception {
    String page = send("GET", "/").body();
    Matcher refs = Pattern.compile("(?:src|href)=\"([^\"]*)\"").matcher(page);
    List<String> found = new ArrayList<>();
    while (refs.find()) {
      found.add(refs.group(1));
    }
    assertThat(found)
        .isNotEmpty()
        .allSatisfy(ref -> assertThat(ref).matches("(/dashboard/[a-z.]+|data:,|#.*)"));
    for (String file : List.of("index.html", "dashboard.js", "dashboard.css")) {
      String text = resource(file);
      // The only absolute URL is the SVG namespace name, which is never fetched.
      assertThat(text.replace("'http://www.w3.org/2000/svg'", ""))
          .as(file)
          .doesNotContainPattern("(?i)https?://")
          .doesNotContainPattern("(?i)(src|href|url)\\s*[=(]\\s*[\"']?//")
          .doesNotContain("@import");
    }
  }

  @Test
  void unknownFilesAndPathsAndMethodsGetTheApisJsonErrors() throws Exception {
    for (String path :
        List.of(
            "/dashboard/nope.js",
            "/dashboard/..%2Freference.conf",
            "/dashboard/dashboard.js/more",
            "/flotilla/dashboard/index.html",
            "/nothing-here")) {
      HttpResponse<String> r = send("GET", path);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(JSON.readTree(r.body()).path("error").asText()).as(path).isNotBlank();
    }
    HttpResponse<String> post = send("POST", "/cluster");
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(JSON.readTree(post.body()).path("error").asText()).isNotBlank();
    HttpResponse<String> delete = send("DELETE", "/");
    assertThat(delete.statusCode()).isEqualTo(405);

    // The jobs API around it keeps its answers.
    assertThat(send("GET", "/jobs/j-nope").statusCode()).isEqualTo(401);
    HttpResponse<String> unknown = send("GET", "/jobs/j-nope", "Authorization", "Bearer token-a");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(unknown.body()).path("error").asText()).contains("no job j-nope");
    HttpResponse<String> odd =
        send("GET", "/jobs/%3Cscript%3E/metrics", "Authorization", "Bearer token-a");
    assertThat(odd.statusCode()).isEqualTo(404);
  }

  @Test
  void theClusterDocumentListsMembersAndWorkersWithReputationWithoutAToken() throws Exception {
    var system = scheduler.node().system();
    StatusReply<?> registered =
        AskPattern.<WorkerRegistry.Command, StatusReply<org.apache.pekko.Done>>ask(
                scheduler.node().registry(),
                replyTo ->
                    new WorkerRegistry.Register(
                        GossipTesting.capabilities("worker-dash", scheduler.node()), replyTo),
                Duration.ofSeconds(10),
                system.scheduler())
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS);
    assertThat(registered.isSuccess()).isTrue();
    // A worker that left but stays quarantined is still shown.
    StatusReply<?> quarantined =
        AskPattern.<ReputationRegistry.Command, StatusReply<org.apache.pekko.Done>>ask(
                scheduler.node().reputation(),
                replyTo ->
                    new ReputationRegistry.Quarantine("worker-gone", "wrong digests", replyTo),
                Duration.ofSeconds(10),
                system.scheduler())
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS);
    assertThat(quarantined.isSuccess()).isTrue();

    TestProbe<Object> probe = TestProbe.create(system);
    JsonNode cluster =
        probe.awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              HttpResponse<String> r = send("GET", "/cluster");
              assertThat(r.statusCode()).isEqualTo(200);
              assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
              JsonNode json = JSON.readTree(r.body());
              assertThat(json.path("workers")).hasSize(2);
              return json;
            });
    String self = scheduler.node().address().toString();
    assertThat(cluster.path("self").asText()).isEqualTo(self);
    assertThat(cluster.path("leader").asText()).isEqualTo(self);
    JsonNode member = cluster.path("members").get(0);
    assertThat(member.path("address").asText()).isEqualTo(self);
    assertThat(member.path("status").asText()).isEqualTo("Up");
    assertThat(member.path("reachable").asBoolean()).isTrue();
    List<String> roles = new ArrayList<>();
    member.path("roles").forEach(r -> roles.add(r.asText()));
    assertThat(roles).containsExactly("scheduler", "seed");

    JsonNode dash = cluster.path("workers").get(0);
    assertThat(dash.path("id").asText()).isEqualTo("worker-dash");
    assertThat(dash.path("registered").asBoolean()).isTrue();
    assertThat(dash.path("capabilities").path("cores").asInt()).isEqualTo(2);
    assertThat(dash.path("capabilities").path("labels").path("region").asText()).isEqualTo("test");
    assertThat(dash.path("reputation").path("quarantined").asBoolean()).isFalse();
    JsonNode gone = cluster.path("workers").get(1);
    assertThat(gone.path("id").asText()).isEqualTo("worker-gone");
    assertThat(gone.path("registered").asBoolean()).isFalse();
    assertThat(gone.path("capabilities").isNull()).isTrue();
    assertThat(gone.path("reputation").path("quarantined").asBoolean()).isTrue();
    assertThat(gone.path("reputation").path("quarantine_reason").asText())
        .isEqualTo("wrong digests");
  }

  private static String resource(String name) throws Exception {
    try (InputStream in =
        DashboardRoutesTest.class
            .getClassLoader()
            .getResourceAsStream(DashboardRoutes.RESOURCES + name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
