package io.flotilla.gossip;

import io.flotilla.protocol.serialization.KryoRegistrar;
import io.flotilla.protocol.serialization.KryoRegistrations;

/** Registers the gossip module's control messages (ids 1000-1999). */
public final class GossipKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    r.add(1000, WorkerRegistry.Register.class);
    r.add(1001, WorkerRegistry.Unregister.class);
    r.add(1002, WorkerRegistry.GetWorkers.class);
    r.add(1003, WorkerRegistry.SubscribeWorkers.class);
    r.add(1004, WorkerRegistry.UnsubscribeWorkers.class);
    r.add(1005, WorkerRegistry.Workers.class);
  }
}
