package io.flotilla.protocol.identity;

import io.flotilla.protocol.serialization.KryoRegistrar;
import io.flotilla.protocol.serialization.KryoRegistrations;

/** Registers worker-identity messages (ids 400-499 of the protocol range). */
public final class IdentityKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    r.add(400, WorkReceipt.class);
    r.add(401, WorkerRegistration.class);
  }
}
