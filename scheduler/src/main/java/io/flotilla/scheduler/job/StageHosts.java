package io.flotilla.scheduler.job;

import io.flotilla.protocol.task.StageHostCommand;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The workers' stage hosts that a receptionist listing holds, by the cluster node they run on, so
 * that a worker of the registry (known by id and node address) can be told apart from the other
 * workers of its node.
 */
final class StageHosts {

  private final Map<String, List<ActorRef<StageHostCommand>>> byNode = new HashMap<>();

  /**
   * @param listing a listing of {@link StageHostCommand#SERVICE_KEY}
   * @param self this node's address, for hosts listed with a local address
   */
  StageHosts(Receptionist.Listing listing, Address self) {
    for (ActorRef<StageHostCommand> host :
        listing.getServiceInstances(StageHostCommand.SERVICE_KEY)) {
      Address a = host.path().address();
      byNode
          .computeIfAbsent((a.hasLocalScope() ? self : a).toString(), k -> new ArrayList<>())
          .add(host);
    }
  }

  /** The stage host of worker {@code id} at node {@code nodeAddress}, or null when not listed. */
  ActorRef<StageHostCommand> of(String id, String nodeAddress) {
    return hostOf(id, byNode.getOrDefault(nodeAddress, List.of()));
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
