package io.flotilla.scheduler.http;

import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.gossip.WorkerRegistryExtension;
import io.flotilla.gossip.reputation.ReputationExtension;
import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.CacheControl;
import org.apache.pekko.http.javadsl.model.headers.CacheDirectives;
import org.apache.pekko.http.javadsl.model.headers.EntityTag;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web dashboard (docs/operating.md#dashboard) and the cluster document it reads:
 *
 * <ul>
 *   <li>{@code GET /} and {@code GET /dashboard/}: the dashboard page; {@code GET /dashboard/FILE}:
 *       its style sheet and script, read once from the class path ({@code flotilla/dashboard/}).
 *       Nothing else is served from there, so no path reaches other resources or files. The page
 *       loads nothing from other origins; its Content-Security-Policy says so to the browser.
 *   <li>{@code GET /cluster}: the members of the cluster with roles and status as this node sees
 *       them, and the workers with their capabilities and reputation (quarantine included), from
 *       this node's replicas of the worker registry and reputation. Like {@code /cluster/members},
 *       {@code /flotilla/workers} and {@code /flotilla/reputation} on each node's management port,
 *       it takes no token: it says nothing about any team's jobs.
 * </ul>
 */
final class DashboardRoutes extends AllDirectives {

  /** Where the page's files lie on the class path. */
  static final String RESOURCES = "flotilla/dashboard/";

  /** The files served under {@code /dashboard/}, by name. */
  private static final Map<String, ContentType> FILES =
      Map.of(
          "index.html", ContentTypes.TEXT_HTML_UTF8,
          "dashboard.css", MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8),
          "dashboard.js", MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8));

  /**
   * Only this origin's script, styles and API; no inline script, no frames. Images as data URLs
   * only (the page's icon).
   */
  private static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'"
          + " data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final ActorSystem<?> system;
  private final Duration askTimeout;
  private final Map<String, StaticFile> files;

  DashboardRoutes(ActorSystem<?> system, Duration askTimeout) {
    this.system = system;
    this.askTimeout = askTimeout;
    Map<String, StaticFile> loaded = new LinkedHashMap<>();
    FILES.forEach((name, type) -> loaded.put(name, StaticFile.load(name, type)));
    this.files = Map.copyOf(loaded);
  }

  Route route() {
    return concat(
        pathEndOrSingleSlash(() -> get(() -> serve("index.html"))),
        pathPrefix(
            "dashboard",
            () ->
                concat(
                    pathEndOrSingleSlash(() -> get(() -> serve("index.html"))),
                    path(PathMatchers.segment(), name -> get(() -> serve(name))))),
        path("cluster", () -> get(() -> completeWithFuture(cluster()))));
  }

  private Route serve(String name) {
    StaticFile file = files.get(name);
    if (file == null) {
      return complete(
          HttpResponse.create()
              .withStatus(StatusCodes.NOT_FOUND)
              .withEntity(
                  HttpEntities.create(
                      ContentTypes.APPLICATION_JSON,
                      JobJson.error("no dashboard file " + name + "; the dashboard is at /"))));
    }
    // Revalidated on every load (the names carry no version), answered 304 while unchanged.
    return respondWithHeaders(
        List.of(
            CacheControl.create(CacheDirectives.NO_CACHE),
            RawHeader.create("X-Content-Type-Options", "nosniff"),
            RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            RawHeader.create("Referrer-Policy", "no-referrer")),
        () ->
            conditional(
                file.etag(),
                () -> complete(HttpResponse.create().withEntity(file.type(), file.bytes()))));
  }

  /** The cluster document: members as this node sees them, workers with their reputation. */
  private CompletionStage<HttpResponse> cluster() {
    ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
    String self = Cluster.get(system).selfMember().address().toString();
    CompletionStage<WorkerRegistry.Workers> workers =
        AskPattern.ask(
            WorkerRegistryExtension.get(system).registry(),
            WorkerRegistry.GetWorkers::new,
            askTimeout,
            system.scheduler());
    CompletionStage<ReputationRegistry.Reputations> reputations =
        AskPattern.ask(
            ReputationExtension.get(system).registry(),
            ReputationRegistry.GetReputations::new,
            askTimeout,
            system.scheduler());
    return workers.thenCombine(
        reputations,
        (w, r) -> {
          Map<String, Object> json = new LinkedHashMap<>();
          json.put("self", self);
          json.put("leader", state.getLeader() == null ? null : state.getLeader().toString());
          json.put("members", members(state));
          json.put("workers", workers(w, r));
          return HttpResponse.create()
              .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, JobJson.write(json)))
              .addHeader(CacheControl.create(CacheDirectives.NO_STORE));
        });
  }

  private static List<Map<String, Object>> members(ClusterEvent.CurrentClusterState state) {
    Set<Member> unreachable = state.getUnreachable();
    List<Map<String, Object>> json = new ArrayList<>();
    for (Member m : StreamSupport.stream(state.getMembers().spliterator(), false).toList()) {
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("address", m.address().toString());
      one.put(
          "roles",
          new TreeSet<>(m.getRoles().stream().filter(role -> !role.startsWith("dc-")).toList()));
      one.put("status", m.status().toString());
      one.put("reachable", !unreachable.contains(m));
      json.add(one);
    }
    return json;
  }

  /**
   * Every worker the registry or the reputation replica knows, sorted by id: {@code registered}
   * says whether it is in the registry now ({@code capabilities} is null when not, as for a
   * quarantined worker that left), {@code reputation} is its record (all zeros when none yet).
   */
  private static List<Map<String, Object>> workers(
      WorkerRegistry.Workers workers, ReputationRegistry.Reputations reputations) {
    Set<String> ids = new TreeSet<>(workers.byId().keySet());
    ids.addAll(reputations.byId().keySet());
    List<Map<String, Object>> json = new ArrayList<>();
    for (String id : ids) {
      WorkerCapabilities capabilities = workers.byId().get(id);
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("id", id);
      one.put("registered", capabilities != null);
      one.put("capabilities", capabilities);
      one.put("reputation", reputations.byId().getOrDefault(id, WorkerReputation.unknown(id)));
      json.add(one);
    }
    return json;
  }

  /** One file of the page, its bytes and their entity tag. */
  private record StaticFile(ContentType type, byte[] bytes, EntityTag etag) {

    static StaticFile load(String name, ContentType type) {
      String resource = RESOURCES + name;
      try (InputStream in = DashboardRoutes.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(
              "the dashboard's " + resource + " is not on the class path");
        }
        byte[] bytes = in.readAllBytes();
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(bytes);
        return new StaticFile(
            type, bytes, EntityTag.create(HexFormat.of().formatHex(sha, 0, 16), false));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the dashboard's " + resource, e);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is missing from this JVM", e);
      }
    }
  }
}
