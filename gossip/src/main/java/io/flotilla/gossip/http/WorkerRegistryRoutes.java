package io.flotilla.gossip.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.gossip.WorkerRegistryExtension;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /flotilla/workers}: this node's replica of the worker registry as JSON, {@code
 * {"workers":[{...WorkerCapabilities...}]}}, sorted by worker id. Mounted into the node's
 * pekko-management HTTP endpoint next to {@code /health/*} and {@code /cluster/members}.
 */
public final class WorkerRegistryRoutes implements ManagementRouteProvider {

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);
  private static final ObjectMapper JSON =
      new ObjectMapper().addMixIn(WorkerCapabilities.class, WithoutStageHost.class);

  /** The stage host is an actor reference for job managers, not something to show. */
  @com.fasterxml.jackson.annotation.JsonIgnoreProperties({"stageHost"})
  private interface WithoutStageHost {}

  private final ActorSystem<?> system;

  /** Called reflectively by pekko-management. */
  public WorkerRegistryRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return Directives.path(
        org.apache.pekko.http.javadsl.server.PathMatchers.segment("flotilla").slash("workers"),
        () ->
            Directives.get(
                () -> {
                  CompletionStage<WorkerRegistry.Workers> workers =
                      AskPattern.ask(
                          WorkerRegistryExtension.get(system).registry(),
                          WorkerRegistry.GetWorkers::new,
                          ASK_TIMEOUT,
                          system.scheduler());
                  return Directives.onSuccess(workers, w -> Directives.complete(toResponse(w)));
                }));
  }

  private static HttpResponse toResponse(WorkerRegistry.Workers workers) {
    try {
      String body = JSON.writeValueAsString(java.util.Map.of("workers", workers.sorted()));
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the registry as JSON", e);
    }
  }
}
