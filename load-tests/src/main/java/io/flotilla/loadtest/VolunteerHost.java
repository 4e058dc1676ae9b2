package io.flotilla.loadtest;

import com.typesafe.config.Config;
import io.flotilla.gossip.FlotillaNode;
import io.flotilla.protocol.task.StageHostCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;

/**
 * A cluster node with the worker role that hosts many simulated workers, like a volunteer machine
 * running several workers in one process: each worker has its own registry entry and stage host
 * (named {@link StageHostCommand#actorName}), all share the node's address and membership. When the
 * host crashes, every worker on it is lost at once and the cluster must notice through its failure
 * detector, as with a real machine.
 */
public final class VolunteerHost implements AutoCloseable {

  private final FlotillaNode node;
  private final Simulation simulation;
  private final Map<String, ActorRef<Object>> workers = new ConcurrentHashMap<>();
  private final AtomicBoolean down = new AtomicBoolean();
  private final List<Runnable> onCrash = new ArrayList<>();

  /** Starts the host's node from {@code config} (roles worker). */
  public VolunteerHost(Config config, Simulation simulation) {
    this.node = FlotillaNode.start(config);
    this.simulation = simulation;
  }

  /** The host's node. */
  public FlotillaNode node() {
    return node;
  }

  /** Starts a simulated worker on this host. */
  public void add(WorkerProfile profile) {
    if (down.get()) {
      return;
    }
    ActorRef<Object> ref;
    try {
      ref =
          node.system()
              .systemActorOf(
                  SimulatedWorker.create(
                      profile,
                      node.address().toString(),
                      node.registry(),
                      simulation,
                      this::crashFromWorker),
                  StageHostCommand.actorName(profile.workerId()),
                  Props.empty());
    } catch (IllegalStateException terminating) {
      // The cluster downed this node (an overloaded machine misses heartbeats): it is lost.
      crash();
      return;
    }
    workers.put(profile.workerId(), ref);
  }

  /** Has worker {@code workerId} leave gracefully (unregister, stop). */
  public boolean leave(String workerId) {
    ActorRef<Object> ref = workers.remove(workerId);
    if (ref == null) {
      return false;
    }
    ref.tell(SimulatedWorker.Leave.INSTANCE);
    return true;
  }

  /** Ids of the workers on this host that have not left. */
  public List<String> workerIds() {
    return List.copyOf(workers.keySet());
  }

  /** Whether the host crashed or was closed. */
  public boolean isDown() {
    return down.get();
  }

  /** Runs {@code r} (once) when the host crashes. */
  public synchronized void onCrash(Runnable r) {
    onCrash.add(r);
  }

  /**
   * Stops the host's node without leaving the cluster, as if the machine died: its workers vanish
   * without unregistering.
   */
  public void crash() {
    if (down.compareAndSet(false, true)) {
      List<Runnable> hooks;
      synchronized (this) {
        hooks = List.copyOf(onCrash);
      }
      hooks.forEach(Runnable::run);
      workers.clear();
      node.crash();
    }
  }

  /** The crash fault mode: called on a worker's thread, so the node stops on another. */
  private void crashFromWorker() {
    Thread t = new Thread(this::crash, "flotilla-sim-crash");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() {
    if (down.compareAndSet(false, true)) {
      node.crash();
    }
  }
}
