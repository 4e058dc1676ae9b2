package io.flotilla.worker.collective;

import io.flotilla.worker.transport.DataPlaneException;

/** A collective failed; the message names the collective, the round and the peer at fault. */
public final class CollectiveException extends DataPlaneException {
  public CollectiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
