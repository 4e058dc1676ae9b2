package io.flotilla.worker.transport;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A tensor that arrived complete and whose CRC32C matched.
 *
 * <p>Its payload lies in a buffer that the transport may take from its receive pool ({@code
 * receive-pool-size}): call {@link #release()} once the bytes are no longer needed (copied out,
 * reduced, forwarded and the forward completed) so that the next tensor of that size lands in
 * memory that is already mapped, instead of a freshly allocated and zeroed one. A tensor that is
 * never released is simply garbage collected.
 */
public final class ReceivedTensor {
  private final TensorHeader header;
  private final String sourceWorkerId;
  private final ByteBuffer payload;
  private final int checksum;
  private final TensorBufferPool pool;
  private final ByteBuffer block;
  private final AtomicBoolean released = new AtomicBoolean();

  /**
   * A tensor whose payload is not pooled.
   *
   * @param header the sender's header
   * @param sourceWorkerId the sending worker
   * @param payload the bytes, off-heap, little-endian, position 0, limit the payload length; owned
   *     by the receiver from now on
   * @param checksum CRC32C of the payload
   */
  public ReceivedTensor(
      TensorHeader header, String sourceWorkerId, ByteBuffer payload, int checksum) {
    this(header, sourceWorkerId, payload, checksum, null, null);
  }

  ReceivedTensor(
      TensorHeader header,
      String sourceWorkerId,
      ByteBuffer payload,
      int checksum,
      TensorBufferPool pool,
      ByteBuffer block) {
    this.header = Objects.requireNonNull(header, "header");
    this.sourceWorkerId = Objects.requireNonNull(sourceWorkerId, "sourceWorkerId");
    this.payload = Objects.requireNonNull(payload, "payload");
    this.checksum = checksum;
    this.pool = pool;
    this.block = block;
  }

  /** The sender's header. */
  public TensorHeader header() {
    return header;
  }

  /** The sending worker. */
  public String sourceWorkerId() {
    return sourceWorkerId;
  }

  /**
   * The bytes: off-heap, little-endian, position 0, limit the payload length. Valid until {@link
   * #release()}.
   */
  public ByteBuffer payload() {
    return payload;
  }

  /** CRC32C of the payload. */
  public int checksum() {
    return checksum;
  }

  /**
   * Hands the payload's memory back to the transport for a later tensor. The payload (and every
   * view of it) must not be used afterwards. Calling it again does nothing.
   */
  public void release() {
    if (released.compareAndSet(false, true) && pool != null) {
      pool.release(block);
    }
  }

  @Override
  public String toString() {
    return "ReceivedTensor["
        + header
        + " from "
        + sourceWorkerId
        + ", "
        + payload.remaining()
        + " bytes, crc32c "
        + Integer.toHexString(checksum)
        + "]";
  }
}
