package io.flotilla.worker.transport;

/** A send or receive on the data plane failed; the message names the peer and the tensor. */
public class DataPlaneException extends RuntimeException {
  public DataPlaneException(String message) {
    super(message);
  }

  public DataPlaneException(String message, Throwable cause) {
    super(message, cause);
  }
}
