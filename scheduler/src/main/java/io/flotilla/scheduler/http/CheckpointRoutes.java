package io.flotilla.scheduler.http;

import io.flotilla.scheduler.job.CheckpointStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.StreamConverters;

/**
 * The routes workers move checkpoint shards through: {@code PUT
 * /internal/checkpoints/upload/{token}} stores a shard at a one-time address a job manager issued,
 * {@code GET /internal/checkpoints/{job}/{sha256}} serves a stored shard to a worker restoring its
 * stage. Neither takes a team's token: an upload address is a 192-bit secret valid once, and a
 * shard is named by the SHA-256 of its bytes, known only to the job manager and the workers it
 * told.
 */
final class CheckpointRoutes extends AllDirectives {

  private final ActorSystem<?> system;
  private final CheckpointStore store;
  private final Executor blocking;

  CheckpointRoutes(ActorSystem<?> system, CheckpointStore store) {
    this.system = system;
    this.store = store;
    this.blocking =
        system
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig("pekko.actor.default-blocking-io-dispatcher"));
  }

  Route route() {
    return pathPrefix(
        "internal",
        () ->
            pathPrefix(
                "checkpoints",
                () ->
                    concat(
                        path(
                            PathMatchers.segment("upload").slash(PathMatchers.segment()),
                            token -> put(() -> upload(token))),
                        path(
                            PathMatchers.segment().slash(PathMatchers.segment()),
                            (job, sha) -> get(() -> download(job, sha))))));
  }

  private Route upload(String token) {
    return withSizeLimit(
        store.maxShardBytes(),
        () ->
            extractDataBytes(
                bytes -> {
                  InputStream in =
                      bytes.runWith(StreamConverters.asInputStream(Duration.ofMinutes(5)), system);
                  CompletionStage<HttpResponse> stored =
                      CompletableFuture.supplyAsync(() -> accept(token, in), blocking);
                  return completeWithFuture(stored);
                }));
  }

  private HttpResponse accept(String token, InputStream in) {
    try (in) {
      String sha = store.accept(token, in);
      return json(StatusCodes.CREATED, JobJson.write(Map.of("sha256", sha)));
    } catch (IllegalArgumentException e) {
      return json(StatusCodes.NOT_FOUND, JobJson.error(e.getMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store the uploaded shard", e);
    }
  }

  private Route download(String job, String sha) {
    try {
      return store
          .shard(job, sha)
          .map(f -> getFromFile(f.toFile(), ContentTypes.APPLICATION_OCTET_STREAM))
          .orElseGet(
              () ->
                  complete(
                      json(
                          StatusCodes.NOT_FOUND,
                          JobJson.error("no shard " + sha + " of job " + job + " here"))));
    } catch (IllegalArgumentException e) {
      return complete(json(StatusCodes.NOT_FOUND, JobJson.error(e.getMessage())));
    }
  }

  private static HttpResponse json(
      org.apache.pekko.http.javadsl.model.StatusCode status, String body) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }
}
