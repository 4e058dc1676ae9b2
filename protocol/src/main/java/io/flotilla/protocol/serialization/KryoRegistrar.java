package io.flotilla.protocol.serialization;

/**
 * Contributes classes to Flotilla's Kryo registry.
 *
 * <p>Each module that defines control messages ships one registrar and names it in its {@code
 * reference.conf} under {@code flotilla.serialization.registrars}. Ids are part of the wire format:
 * never reuse or renumber one. Ranges: protocol 10-999, gossip 1000-1999, scheduler 2000-2999,
 * worker 3000-3999, ledger-bridge 4000-4999, engine 5000-5999, load-tests 9000-9999.
 *
 * <p>Implementations need a public no-argument constructor.
 */
public interface KryoRegistrar {

  /** Adds this module's classes to {@code registrations}. */
  void register(KryoRegistrations registrations);
}
