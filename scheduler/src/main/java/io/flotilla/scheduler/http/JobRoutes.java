package io.flotilla.scheduler.http;

import io.flotilla.protocol.job.InvalidJobSpecException;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.scheduler.job.JobEvent;
import io.flotilla.scheduler.job.JobManager;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import io.flotilla.scheduler.job.StepMetrics;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The jobs API (docs/api.md): submit, list, show, cancel and follow jobs, for the team a bearer
 * token belongs to. Another team's job answers 404, as an unknown id does, so ids of other teams'
 * jobs cannot be probed.
 */
public final class JobRoutes extends AllDirectives {

  /** Config path of the read journal the metrics route queries. */
  static final String QUERY_PLUGIN = "flotilla.scheduler.persistence.query";

  private final ActorSystem<?> system;
  private final Jobs jobs;
  private final HttpSettings settings;
  private final Duration eventsPollInterval;

  /** Routes over {@code jobs} with the API's settings. */
  public JobRoutes(ActorSystem<?> system, Jobs jobs, HttpSettings settings) {
    this.system = system;
    this.jobs = jobs;
    this.settings = settings;
    this.eventsPollInterval = jobs.settings().eventsPollInterval();
  }

  /** All routes, with JSON errors for rejections and failures. */
  public Route route() {
    return withErrors(this::jobsRoute);
  }

  /**
   * {@code inner} with the API's JSON errors: rejections (unknown paths 404, unsupported methods
   * 405, bodies over the limit 413) and failures as {@code {"error": ...}}.
   */
  public Route withErrors(Supplier<Route> inner) {
    return handleExceptions(exceptions(), () -> handleRejections(rejections(), inner));
  }

  /** The routes under {@code /jobs}, without error handling. */
  Route jobsRoute() {
    return pathPrefix(
        "jobs",
        () ->
            authenticated(
                team ->
                    concat(
                        pathEndOrSingleSlash(
                            () ->
                                concat(
                                    post(() -> submitRoute(team)),
                                    get(() -> completeWithFuture(list(team))))),
                        pathPrefix(PathMatchers.segment(), id -> jobRoute(team, id)))));
  }

  private Route submitRoute(String team) {
    return withSizeLimit(
        settings.maxBodyBytes(),
        () ->
            optionalHeaderValueByName(
                "Idempotency-Key",
                key ->
                    entity(
                        Unmarshaller.entityToString(),
                        body -> completeWithFuture(submit(team, body, key.orElse(null))))));
  }

  private Route jobRoute(String team, String id) {
    return concat(
        pathEndOrSingleSlash(
            () ->
                concat(
                    get(() -> completeWithFuture(show(team, id))),
                    delete(() -> completeWithFuture(cancel(team, id))))),
        path("events", () -> get(() -> events(team, id))),
        path("metrics", () -> get(() -> completeWithFuture(metrics(team, id)))),
        pathPrefix(
            "checkpoint",
            () ->
                concat(
                    pathEndOrSingleSlash(() -> get(() -> completeWithFuture(checkpoint(team, id)))),
                    path(
                        PathMatchers.segment(),
                        file ->
                            get(() -> onSuccess(jobs.get(team, id), v -> shard(team, v, file)))))));
  }

  /**
   * The job's steps from its journal: one entry per completed step, in order. A step that was run
   * again after an interruption appears once, with the values of its last run.
   */
  private CompletionStage<HttpResponse> metrics(String team, String id) {
    return jobs.get(team, id)
        .thenCompose(
            view -> {
              if (!visible(view, team)) {
                return CompletableFuture.completedFuture(notFound(id));
              }
              JdbcReadJournal journal =
                  PersistenceQuery.get(Adapter.toClassic(system))
                      .getReadJournalFor(JdbcReadJournal.class, QUERY_PLUGIN);
              return journal
                  .currentEventsByPersistenceId(JobManager.persistenceId(id), 0, Long.MAX_VALUE)
                  .map(EventEnvelope::event)
                  .runWith(Sink.seq(), system)
                  .thenApply(
                      events -> {
                        java.util.TreeMap<Long, StepMetrics> steps = new java.util.TreeMap<>();
                        for (Object e : events) {
                          if (e instanceof JobEvent.JobStarted started) {
                            steps.tailMap(started.fromStep(), false).clear();
                          } else if (e instanceof JobEvent.StepCompleted done) {
                            steps.put(done.metrics().step(), done.metrics());
                          }
                        }
                        Map<String, Object> json = new java.util.LinkedHashMap<>();
                        json.put("id", id);
                        json.put("state", view.phase().name().toLowerCase(Locale.ROOT));
                        json.put("steps", steps.values().stream().map(JobJson::step).toList());
                        json.put("workers", JobJson.workers(view));
                        return json(StatusCodes.OK, JobJson.write(json));
                      });
            })
        .exceptionally(this::failure);
  }

  private CompletionStage<HttpResponse> checkpoint(String team, String id) {
    return jobs.get(team, id)
        .thenApply(
            view -> {
              if (!visible(view, team)) {
                return notFound(id);
              }
              if (view.checkpoint() == null) {
                return json(
                    StatusCodes.NOT_FOUND,
                    JobJson.error(
                        "job " + id + " has no checkpoint yet (it is " + phaseName(view) + ")"));
              }
              return json(StatusCodes.OK, JobJson.write(JobJson.checkpoint(view)));
            })
        .exceptionally(this::failure);
  }

  private Route shard(String team, JobView view, String file) {
    if (!visible(view, team)) {
      return complete(notFound(view.jobId()));
    }
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("stage-(\\d{1,4})\\.safetensors").matcher(file);
    if (view.checkpoint() == null || !m.matches()) {
      return complete(
          json(
              StatusCodes.NOT_FOUND,
              JobJson.error(
                  "no shard "
                      + file
                      + " in the last checkpoint of job "
                      + view.jobId()
                      + "; GET /jobs/"
                      + view.jobId()
                      + "/checkpoint lists them")));
    }
    int stage = Integer.parseInt(m.group(1));
    return view.checkpoint().shards().stream()
        .filter(sh -> sh.stage() == stage)
        .findFirst()
        .flatMap(sh -> jobs.checkpoints().shard(view.jobId(), sh.sha256()))
        .map(path -> getFromFile(path.toFile(), ContentTypes.APPLICATION_OCTET_STREAM))
        .orElseGet(
            () ->
                complete(
                    json(
                        StatusCodes.NOT_FOUND,
                        JobJson.error(
                            "shard "
                                + file
                                + " of job "
                                + view.jobId()
                                + " is not stored on this scheduler node"))));
  }

  private static String phaseName(JobView view) {
    return view.phase().name().toLowerCase(Locale.ROOT);
  }

  private Route authenticated(Function<String, Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        header -> {
          if (header.isEmpty()) {
            return complete(
                unauthorized(
                    "missing bearer token: send the header 'Authorization: Bearer <token>' with"
                        + " a token your operators gave your team"));
          }
          String value = header.get().trim();
          if (!value.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return complete(unauthorized("the Authorization header must be 'Bearer <token>'"));
          }
          Optional<String> team = teamOf(value.substring(7).trim());
          if (team.isEmpty()) {
            return complete(unauthorized("unknown bearer token"));
          }
          return inner.apply(team.get());
        });
  }

  /** The team of {@code token}, comparing every configured token in constant time. */
  private Optional<String> teamOf(String token) {
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    String found = null;
    for (Map.Entry<String, String> e : settings.teamsByToken().entrySet()) {
      if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
        found = e.getValue();
      }
    }
    return Optional.ofNullable(found);
  }

  private CompletionStage<HttpResponse> submit(String team, String body, String idempotencyKey) {
    JobSpec spec;
    try {
      spec = JobSpecParser.parse(body);
    } catch (InvalidJobSpecException e) {
      return CompletableFuture.completedFuture(
          json(StatusCodes.BAD_REQUEST, JobJson.specErrors(e.errors())));
    }
    CompletionStage<JobView> submitted;
    try {
      submitted = jobs.submit(team, spec, idempotencyKey);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          json(StatusCodes.BAD_REQUEST, JobJson.error("Idempotency-Key: " + e.getMessage())));
    }
    return submitted.handle(
        (view, error) ->
            error != null
                ? failure(error)
                : json(StatusCodes.CREATED, JobJson.write(JobJson.detail(view)))
                    .addHeader(Location.create("/jobs/" + view.jobId())));
  }

  private CompletionStage<HttpResponse> list(String team) {
    return jobs.list(team)
        .handle(
            (views, error) ->
                error != null
                    ? failure(error)
                    : json(
                        StatusCodes.OK,
                        JobJson.write(
                            Map.of("jobs", views.stream().map(JobJson::summary).toList()))));
  }

  private CompletionStage<HttpResponse> show(String team, String id) {
    return jobs.get(team, id)
        .handle(
            (view, error) -> {
              if (error != null) {
                return failure(error);
              }
              if (!visible(view, team)) {
                return notFound(id);
              }
              Map<String, Object> detail = JobJson.detail(view);
              detail.put("payments", JobJson.payments(view, jobs.settings().unitsPerCurrency()));
              return json(StatusCodes.OK, JobJson.write(detail));
            });
  }

  private CompletionStage<HttpResponse> cancel(String team, String id) {
    return jobs.get(team, id)
        .thenCompose(
            view -> {
              if (!visible(view, team)) {
                return CompletableFuture.completedFuture(notFound(id));
              }
              if (view.phase().isTerminal()) {
                return CompletableFuture.completedFuture(
                    json(
                        StatusCodes.CONFLICT,
                        JobJson.error(
                            "job "
                                + id
                                + " is already "
                                + view.phase().name().toLowerCase(Locale.ROOT))));
              }
              return jobs.cancel(team, id)
                  .thenApply(
                      cancelled -> json(StatusCodes.OK, JobJson.write(JobJson.detail(cancelled))));
            })
        .exceptionally(this::failure);
  }

  private Route events(String team, String id) {
    return onSuccess(
        jobs.get(team, id),
        view -> {
          if (!visible(view, team)) {
            return complete(notFound(id));
          }
          return completeOK(stateChanges(id), EventStreamMarshalling.toEventStream());
        });
  }

  /**
   * The job's states as server-sent events named {@code state}, one per change, read every {@code
   * events-poll-interval}; the stream ends after the job reaches a terminal state.
   */
  private Source<ServerSentEvent, NotUsed> stateChanges(String id) {
    return Source.tick(Duration.ZERO, eventsPollInterval, "read")
        .mapAsync(1, tick -> jobs.get(id))
        .statefulMap(
            () -> JobView.empty(id),
            (JobView last, JobView view) ->
                Pair.create(
                    view, view.equals(last) ? Optional.<JobView>empty() : Optional.of(view)),
            last -> Optional.<Optional<JobView>>empty())
        .filter(Optional::isPresent)
        .map(Optional::get)
        .takeWhile(view -> !view.phase().isTerminal(), true)
        .map(view -> ServerSentEvent.create(JobJson.write(JobJson.summary(view)), "state"))
        .keepAlive(Duration.ofSeconds(15), ServerSentEvent::heartbeat)
        .mapMaterializedValue(cancellable -> NotUsed.getInstance());
  }

  private static boolean visible(JobView view, String team) {
    return view.phase() != JobView.Phase.NEW && team.equals(view.team());
  }

  private static HttpResponse notFound(String id) {
    return json(StatusCodes.NOT_FOUND, JobJson.error("no job " + id + " for your team"));
  }

  private static HttpResponse unauthorized(String message) {
    return json(StatusCodes.UNAUTHORIZED, JobJson.error(message))
        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"flotilla\""));
  }

  private HttpResponse failure(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof StatusReply.ErrorMessage) {
      return json(StatusCodes.CONFLICT, JobJson.error(cause.getMessage()));
    }
    if (cause instanceof AskTimeoutException || cause instanceof TimeoutException) {
      return json(
          StatusCodes.SERVICE_UNAVAILABLE,
          JobJson.error("the scheduler did not answer in time; try again"));
    }
    return json(
        StatusCodes.INTERNAL_SERVER_ERROR, JobJson.error("internal error: " + cause.getMessage()));
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(
            EntityStreamSizeException.class,
            e -> complete(json(StatusCodes.CONTENT_TOO_LARGE, tooLarge())))
        .match(Exception.class, e -> complete(failure(e)))
        .build();
  }

  private RejectionHandler rejections() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (response.status().equals(StatusCodes.CONTENT_TOO_LARGE)) {
                return response.withEntity(
                    HttpEntities.create(ContentTypes.APPLICATION_JSON, tooLarge()));
              }
              if (response.entity() instanceof HttpEntity.Strict strict
                  && !strict.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                return response.withEntity(
                    HttpEntities.create(
                        ContentTypes.APPLICATION_JSON,
                        JobJson.error(strict.getData().utf8String())));
              }
              return response;
            });
  }

  private String tooLarge() {
    return JobJson.error(
        "request body larger than "
            + settings.maxBodyBytes()
            + " bytes (flotilla.scheduler.http.max-body-bytes)");
  }

  private static HttpResponse json(StatusCode status, String body) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }
}
