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
    r.add(1006, WorkerRegistry.GetWorkersPage.class);
    r.add(1007, WorkerRegistry.WorkersPage.class);
    r.add(1008, WorkerRegistry.WatchWorkers.class);
    r.add(1009, WorkerRegistry.WorkersChanged.class);
    r.add(1010, io.flotilla.gossip.placement.PlacementBoard.JobPlacement.class);
    r.add(1011, io.flotilla.gossip.placement.PlacementBoard.Hold.class);
    r.add(1012, io.flotilla.gossip.placement.PlacementBoard.Free.class);
    r.add(1020, io.flotilla.gossip.reputation.WorkerReputation.class);
    r.add(1021, io.flotilla.gossip.reputation.QuarantineStatus.class);
    r.add(1022, io.flotilla.gossip.reputation.ReputationRegistry.RecordValid.class);
    r.add(1023, io.flotilla.gossip.reputation.ReputationRegistry.RecordInvalid.class);
    r.add(1024, io.flotilla.gossip.reputation.ReputationRegistry.RecordUnverified.class);
    r.add(1025, io.flotilla.gossip.reputation.ReputationRegistry.Quarantine.class);
    r.add(1026, io.flotilla.gossip.reputation.ReputationRegistry.Unquarantine.class);
    r.add(1027, io.flotilla.gossip.reputation.ReputationRegistry.GetReputation.class);
    r.add(1028, io.flotilla.gossip.reputation.ReputationRegistry.GetReputations.class);
    r.add(1029, io.flotilla.gossip.reputation.ReputationRegistry.SubscribeReputations.class);
    r.add(1030, io.flotilla.gossip.reputation.ReputationRegistry.UnsubscribeReputations.class);
    r.add(1031, io.flotilla.gossip.reputation.ReputationRegistry.Reputations.class);
  }
}
