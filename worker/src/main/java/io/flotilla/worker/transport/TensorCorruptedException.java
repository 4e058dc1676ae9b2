package io.flotilla.worker.transport;

/** A tensor arrived with a checksum mismatch, truncated, or with an invalid header. */
public final class TensorCorruptedException extends DataPlaneException {
  public TensorCorruptedException(String message) {
    super(message);
  }
}
