package io.flotilla.worker.transport;

/** A peer did not connect, stopped consuming, went away, or sent nothing within the timeout. */
public final class PeerUnavailableException extends DataPlaneException {
  public PeerUnavailableException(String message) {
    super(message);
  }
}
