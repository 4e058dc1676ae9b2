package io.flotilla.protocol;

/**
 * Marker for every message that may cross a node boundary on the control plane.
 *
 * <p>Pekko binds this interface to {@link
 * io.flotilla.protocol.serialization.FlotillaKryoSerializer} (see {@code reference.conf}). A class
 * that implements it must also be registered with an explicit id by a {@link
 * io.flotilla.protocol.serialization.KryoRegistrar}; an unregistered class fails loudly at the
 * sender rather than silently travelling with Java serialization, which is off cluster-wide.
 */
public interface ControlMessage {}
