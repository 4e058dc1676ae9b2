package io.flotilla.scheduler.job;

import io.flotilla.protocol.task.StageHostCommand;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The workers' stage hosts that receptionist listings hold, by the cluster node they run on, so
 * that a worker of the registry (known by id and node address) can be told apart from the other
 * workers of its node. Stage hosts register under one of {@link StageHostCommand#SERVICE_KEYS} (by
 * worker id); {@link #subscribe} asks for the listings of all of them and {@link #update} takes in
 * each one, re-indexing only its key, so that a listing of one key costs the hosts of that key and
 * not every host of the cluster.
 */
final class StageHosts {

  /** Per service key id: node address -&gt; the hosts registered there. */
  private final Map<String, Map<String, List<ActorRef<StageHostCommand>>>> byKey = new HashMap<>();

  private final Address self;

  /**
   * @param self this node's address, for hosts listed with a local address
   */
  StageHosts(Address self) {
    this.self = self;
  }

  /** Subscribes {@code subscriber} to the listing of every key stage hosts register under. */
  static void subscribe(ActorSystem<?> system, ActorRef<Receptionist.Listing> subscriber) {
    for (ServiceKey<StageHostCommand> key : StageHostCommand.SERVICE_KEYS) {
      system.receptionist().tell(Receptionist.subscribe(key, subscriber));
    }
  }

  /** Takes in {@code listing}, replacing what the last listing of its key said. */
  StageHosts update(Receptionist.Listing listing) {
    ServiceKey<StageHostCommand> key = KEYS.get(listing.getKey().id());
    if (key == null) {
      return this;
    }
    Map<String, List<ActorRef<StageHostCommand>>> byNode = new HashMap<>();
    for (ActorRef<StageHostCommand> host : listing.getServiceInstances(key)) {
      Address a = host.path().address();
      byNode
          .computeIfAbsent((a.hasLocalScope() ? self : a).toString(), k -> new ArrayList<>())
          .add(host);
    }
    byKey.put(key.id(), byNode);
    return this;
  }

  private static final Map<String, ServiceKey<StageHostCommand>> KEYS =
      StageHostCommand.SERVICE_KEYS.stream()
          .collect(java.util.stream.Collectors.toUnmodifiableMap(ServiceKey::id, k -> k));

  /** The stage host of worker {@code id} at node {@code nodeAddress}, or null when not listed. */
  ActorRef<StageHostCommand> of(String id, String nodeAddress) {
    Map<String, List<ActorRef<StageHostCommand>>> byNode =
        byKey.get(StageHostCommand.serviceKey(id).id());
    return byNode == null ? null : hostOf(id, byNode.getOrDefault(nodeAddress, List.of()));
  }

  /**
   * The stage host of worker {@code id} among the hosts registered at its node: the only one, or,
   * where the node hosts several workers, the one named {@link StageHostCommand#actorName} (never
   * the named host of another worker).
   */
  private static ActorRef<StageHostCommand> hostOf(
      String id, List<ActorRef<StageHostCommand>> atNode) {
    String name = StageHostCommand.actorName(id);
    for (ActorRef<StageHostCommand> host : atNode) {
      if (host.path().name().equals(name)) {
        return host;
      }
    }
    if (atNode.size() == 1
        && !atNode.get(0).path().name().startsWith(StageHostCommand.actorName(""))) {
      return atNode.get(0);
    }
    return null;
  }
}
