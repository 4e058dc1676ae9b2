package io.flotilla.gossip.http;

import io.flotilla.protocol.metrics.NodeMetrics;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics}: every meter of this node ({@link NodeMetrics}) in the Prometheus text
 * exposition format, for a Prometheus server to scrape. Mounted into the node's pekko-management
 * HTTP endpoint next to {@code /health/*}.
 */
public final class MetricsRoutes implements ManagementRouteProvider {

  private static final ContentType PROMETHEUS_TEXT = ContentTypes.parse(NodeMetrics.CONTENT_TYPE);

  private final ActorSystem<?> system;

  /** Called reflectively by pekko-management. */
  public MetricsRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    // The inner route runs per request, so every scrape reads the meters afresh.
    return Directives.path(
        "metrics",
        () ->
            Directives.get(
                () ->
                    Directives.complete(
                        HttpResponse.create()
                            .withEntity(
                                PROMETHEUS_TEXT,
                                NodeMetrics.get(system)
                                    .scrape()
                                    .getBytes(StandardCharsets.UTF_8)))));
  }
}
