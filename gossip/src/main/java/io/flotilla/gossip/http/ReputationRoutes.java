package io.flotilla.gossip.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.gossip.reputation.ReputationExtension;
import io.flotilla.gossip.reputation.ReputationRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /flotilla/reputation}: this node's replica of the workers' reputation as JSON, {@code
 * {"reputation":[{...WorkerReputation...}]}}, sorted by worker id. Mounted into the node's
 * pekko-management HTTP endpoint next to {@code /flotilla/workers}.
 */
public final class ReputationRoutes implements ManagementRouteProvider {

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;

  /** Called reflectively by pekko-management. */
  public ReputationRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return Directives.path(
        PathMatchers.segment("flotilla").slash("reputation"),
        () ->
            Directives.get(
                () -> {
                  CompletionStage<ReputationRegistry.Reputations> reputations =
                      AskPattern.ask(
                          ReputationExtension.get(system).registry(),
                          ReputationRegistry.GetReputations::new,
                          ASK_TIMEOUT,
                          system.scheduler());
                  return Directives.onSuccess(reputations, r -> Directives.complete(toResponse(r)));
                }));
  }

  private static HttpResponse toResponse(ReputationRegistry.Reputations reputations) {
    try {
      String body = JSON.writeValueAsString(Map.of("reputation", reputations.sorted()));
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the reputation as JSON", e);
    }
  }
}
