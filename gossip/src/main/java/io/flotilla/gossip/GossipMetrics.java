package io.flotilla.gossip;

import io.flotilla.protocol.metrics.NodeMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The gossip module's meters on one node, as this node sees the cluster:
 *
 * <ul>
 *   <li>{@code flotilla_cluster_members{status}}: members by status (up, joining, weakly_up,
 *       leaving, exiting, down);
 *   <li>{@code flotilla_cluster_unreachable_members}: members this node's failure detector
 *       suspects;
 *   <li>{@code flotilla_workers{state}}: on nodes that hold the registry and reputation replicas
 *       (scheduler nodes, see {@link SchedulerState}), workers registered ({@code registered}) and
 *       quarantined cluster-wide ({@code quarantined}).
 * </ul>
 *
 * Cluster gauges read Pekko's cached cluster state when scraped; the registry and reputation actors
 * set the worker gauges when their replicas change.
 */
public final class GossipMetrics implements Extension {

  /** The extension's id. */
  public static final ExtensionId<GossipMetrics> ID =
      new ExtensionId<>() {
        @Override
        public GossipMetrics createExtension(ActorSystem<?> system) {
          return new GossipMetrics(system);
        }
      };

  private static final MemberStatus[] STATUSES = {
    MemberStatus.joining(),
    MemberStatus.weaklyUp(),
    MemberStatus.up(),
    MemberStatus.leaving(),
    MemberStatus.exiting(),
    MemberStatus.down()
  };

  private final AtomicInteger registeredWorkers = new AtomicInteger();
  private final AtomicInteger quarantinedWorkers = new AtomicInteger();

  private GossipMetrics(ActorSystem<?> system) {
    MeterRegistry registry = NodeMetrics.get(system).registry();
    Cluster cluster = Cluster.get(system);
    for (MemberStatus status : STATUSES) {
      Gauge.builder("flotilla.cluster.members", cluster, c -> count(c, status))
          .description("Cluster members by status, as this node sees them")
          .tag("status", label(status))
          .strongReference(true)
          .register(registry);
    }
    Gauge.builder(
            "flotilla.cluster.unreachable.members", cluster, c -> c.state().getUnreachable().size())
        .description("Members this node's failure detector considers unreachable")
        .strongReference(true)
        .register(registry);
    if (SchedulerState.get(system).replicator().isPresent()) {
      // Only nodes that hold the replicas know; elsewhere the gauges would read 0.
      Gauge.builder("flotilla.workers", registeredWorkers, AtomicInteger::get)
          .description("Workers by state: registered, quarantined")
          .tag("state", "registered")
          .strongReference(true)
          .register(registry);
      Gauge.builder("flotilla.workers", quarantinedWorkers, AtomicInteger::get)
          .description("Workers by state: registered, quarantined")
          .tag("state", "quarantined")
          .strongReference(true)
          .register(registry);
    }
  }

  /** The extension of {@code system}, created on first use. */
  public static GossipMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Sets the number of workers in the registry replica of this node. */
  public void registeredWorkers(int count) {
    registeredWorkers.set(count);
  }

  /** Sets the number of workers quarantined cluster-wide. */
  public void quarantinedWorkers(int count) {
    quarantinedWorkers.set(count);
  }

  private static int count(Cluster cluster, MemberStatus status) {
    int n = 0;
    for (Member m : cluster.state().getMembers()) {
      if (m.status().equals(status)) {
        n++;
      }
    }
    return n;
  }

  /** {@code WeaklyUp} becomes {@code weakly_up}. */
  static String label(MemberStatus status) {
    return status.toString().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
