package io.flotilla.protocol.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The meters of one node: one Prometheus registry per ActorSystem, so several nodes in one JVM
 * (tests, {@code flotilla demo}) keep their numbers apart. Every module registers its meters here
 * where its events happen; the node serves them at {@code GET /metrics}. JVM meters (memory, GC,
 * threads, class loading, CPU, uptime) are bound when the registry is created.
 *
 * <p>Meter names start with {@code flotilla_} and carry their unit ({@code _bytes}, {@code
 * _seconds}); labels have few values (a job id at most, never a step number).
 */
public final class NodeMetrics implements Extension {

  /** The extension's id. */
  public static final ExtensionId<NodeMetrics> ID =
      new ExtensionId<>() {
        @Override
        public NodeMetrics createExtension(ActorSystem<?> system) {
          return new NodeMetrics(system);
        }
      };

  /**
   * The content type of {@link #scrape()}: the Prometheus text exposition format, version 0.0.4.
   */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;

  private NodeMetrics(ActorSystem<?> system) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    system
        .getWhenTerminated()
        .whenComplete(
            (done, failure) -> {
              gc.close();
              registry.close();
            });
  }

  /** The extension of {@code system}, created on first use. */
  public static NodeMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's registry; register meters into it. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Every meter of this node in the Prometheus text format ({@link #CONTENT_TYPE}). */
  public String scrape() {
    return registry.scrape();
  }
}
