package io.flotilla.gossip.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.gossip.reputation.ReputationExtension;
import io.flotilla.gossip.reputation.ReputationRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;
import org.apache.pekko.pattern.StatusReply;

/**
 * The workers' reputation over the node's pekko-management HTTP endpoint, next to {@code
 * /flotilla/workers}:
 *
 * <ul>
 *   <li>{@code GET /flotilla/reputation}: this node's replica as JSON, {@code
 *       {"reputation":[{...WorkerReputation...}]}}, sorted by worker id.
 *   <li>{@code POST /flotilla/reputation/WORKER/quarantine?reason=...} and {@code
 *       .../unquarantine?reason=...}: an operator quarantines or releases a worker cluster-wide.
 *       Only when the endpoint is not read-only ({@code
 *       pekko.management.http.route-providers-read-only = off}); else 403 saying so. 200 when a
 *       majority of nodes holds the change, 409 with the reason otherwise (e.g. the worker is not
 *       quarantined).
 * </ul>
 */
public final class ReputationRoutes implements ManagementRouteProvider {

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;

  /** Called reflectively by pekko-management. */
  public ReputationRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return Directives.concat(
        Directives.path(
            PathMatchers.segment("flotilla").slash("reputation"), () -> Directives.get(this::list)),
        Directives.path(
            PathMatchers.segment("flotilla")
                .slash("reputation")
                .slash(PathMatchers.segment())
                .slash(PathMatchers.segment()),
            (worker, action) ->
                Directives.post(
                    () ->
                        Directives.parameterOptional(
                            "reason",
                            reason -> change(settings, worker, action, reason.orElse(""))))));
  }

  private Route list() {
    CompletionStage<ReputationRegistry.Reputations> reputations =
        AskPattern.ask(
            ReputationExtension.get(system).registry(),
            ReputationRegistry.GetReputations::new,
            ASK_TIMEOUT,
            system.scheduler());
    return Directives.onSuccess(reputations, r -> Directives.complete(toResponse(r)));
  }

  private Route change(
      ManagementRouteProviderSettings settings, String worker, String action, String reason) {
    if (settings.readOnly()) {
      return Directives.complete(
          StatusCodes.FORBIDDEN,
          "this node's HTTP endpoint is read-only; quarantine and release need"
              + " pekko.management.http.route-providers-read-only = off on the node you call");
    }
    if (!action.equals("quarantine") && !action.equals("unquarantine")) {
      return Directives.complete(
          StatusCodes.NOT_FOUND,
          "unknown action '" + action + "'; allowed: quarantine, unquarantine");
    }
    if (reason.isBlank()) {
      return Directives.complete(
          StatusCodes.BAD_REQUEST, "a reason is required (?reason=...), it is shown to operators");
    }
    CompletionStage<StatusReply<Done>> reply;
    try {
      reply =
          AskPattern.ask(
              ReputationExtension.get(system).registry(),
              replyTo ->
                  action.equals("quarantine")
                      ? new ReputationRegistry.Quarantine(worker, reason, replyTo)
                      : new ReputationRegistry.Unquarantine(worker, reason, replyTo),
              ASK_TIMEOUT,
              system.scheduler());
    } catch (IllegalArgumentException e) {
      return Directives.complete(StatusCodes.BAD_REQUEST, e.getMessage());
    }
    return Directives.onSuccess(
        reply,
        r ->
            r.isSuccess()
                ? Directives.complete(StatusCodes.OK, action + " " + worker + ": done")
                : Directives.complete(StatusCodes.CONFLICT, r.getError().getMessage()));
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
