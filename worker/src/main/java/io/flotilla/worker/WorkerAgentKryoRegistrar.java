package io.flotilla.worker;

import io.flotilla.protocol.serialization.KryoRegistrar;
import io.flotilla.protocol.serialization.KryoRegistrations;

/**
 * Registers the worker agent's messages. Uses the top of the worker range (3900-3999) so the
 * worker's data-plane messages keep 3000-3899.
 */
public final class WorkerAgentKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    r.add(3900, WorkerAgent.SetDataPlane.class);
    r.add(3901, WorkerAgent.SetWalletAddress.class);
    r.add(3902, WorkerAgent.GetCapabilities.class);
    r.add(3903, WorkerAgent.CurrentCapabilities.class);
    r.add(3904, WorkerAgent.SetStageHost.class);
  }
}
