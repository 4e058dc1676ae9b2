package io.flotilla.worker.transport;

import io.aeron.Publication;
import io.aeron.logbuffer.BufferClaim;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes tensors onto the Aeron publication of one peer: a BEGIN frame, one CHUNK frame per
 * fragment-sized slice of the payload, and an END frame with the CRC32C.
 *
 * <p>Each frame is written straight into the term buffer with {@link Publication#tryClaim}: the
 * payload is copied exactly once, and nothing is allocated per chunk. The checksum is computed
 * slice by slice as the chunks go out. Back-pressure and admin actions make the sender idle and
 * retry; nothing is dropped. A peer that makes no progress for the timeout (not connected, not
 * consuming) fails the send with a {@link PeerUnavailableException} naming it. Safe to use from
 * several threads at once: the publication is concurrent and transfers are told apart by id.
 */
final class TensorPublisher implements AutoCloseable {
  private final DataPlanePeer peer;
  private final Publication publication;
  private final NanoClock clock;
  private final int chunkBytes;

  TensorPublisher(DataPlanePeer peer, Publication publication, NanoClock clock) {
    this.peer = peer;
    this.publication = publication;
    this.clock = clock;
    this.chunkBytes = publication.maxPayloadLength() - TensorFrames.COMMON_LENGTH;
  }

  DataPlanePeer peer() {
    return peer;
  }

  /** Payload bytes per CHUNK frame. */
  int chunkBytes() {
    return chunkBytes;
  }

  /**
   * Sends one tensor and blocks until every frame is in the publication.
   *
   * @param corruptChecksum when true the END frame carries a wrong checksum (tests of the
   *     receiver's rejection use this; senders never do)
   */
  void send(
      long transferId,
      TensorHeader header,
      ByteBuffer payload,
      byte[] sourceId,
      long timeoutNs,
      IdleStrategy idle,
      boolean corruptChecksum) {
    int length = payload.remaining();
    if (header.payloadBytes() != length) {
      throw new IllegalArgumentException(
          "payload has "
              + length
              + " bytes but "
              + header
              + " calls for "
              + header.payloadBytes()
              + " bytes");
    }
    byte[] jobId = TensorFrames.idBytes(header.jobId(), "jobId");
    BufferClaim claim = new BufferClaim();
    awaitConnected(timeoutNs, idle, header);

    claim(TensorFrames.beginLength(header, jobId, sourceId), claim, timeoutNs, idle, header);
    TensorFrames.encodeBegin(
        claim.buffer(), claim.offset(), transferId, length, chunkBytes, header, jobId, sourceId);
    claim.commit();

    UnsafeBuffer source = new UnsafeBuffer(payload, payload.position(), length);
    ByteBuffer crcView = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    CRC32C crc = new CRC32C();
    int chunkIndex = 0;
    for (int offset = 0; offset < length; offset += chunkBytes, chunkIndex++) {
      int sliceBytes = Math.min(chunkBytes, length - offset);
      claim(TensorFrames.COMMON_LENGTH + sliceBytes, claim, timeoutNs, idle, header);
      var buffer = claim.buffer();
      int frame = claim.offset();
      buffer.putInt(frame + TensorFrames.TYPE_OFFSET, TensorFrames.TYPE_CHUNK);
      buffer.putInt(frame + TensorFrames.CHUNK_INDEX_OFFSET, chunkIndex);
      buffer.putLong(frame + TensorFrames.TRANSFER_ID_OFFSET, transferId);
      buffer.putBytes(frame + TensorFrames.COMMON_LENGTH, source, offset, sliceBytes);
      claim.commit();
      crcView.limit(payload.position() + offset + sliceBytes).position(payload.position() + offset);
      crc.update(crcView);
    }

    int checksum = (int) crc.getValue();
    claim(TensorFrames.END_LENGTH, claim, timeoutNs, idle, header);
    claim.buffer().putInt(claim.offset() + TensorFrames.TYPE_OFFSET, TensorFrames.TYPE_END);
    claim.buffer().putInt(claim.offset() + TensorFrames.CHUNK_INDEX_OFFSET, TensorFrames.VERSION);
    claim.buffer().putLong(claim.offset() + TensorFrames.TRANSFER_ID_OFFSET, transferId);
    claim
        .buffer()
        .putInt(
            claim.offset() + TensorFrames.CHECKSUM_OFFSET, corruptChecksum ? ~checksum : checksum);
    claim.commit();
  }

  /** Sends an ABORT frame: the receiver fails what it awaits of {@code jobId} from us. */
  void abort(byte[] jobId, byte[] sourceId, byte[] reason, long timeoutNs, IdleStrategy idle) {
    TensorHeader what =
        new TensorHeader(
            new String(jobId, java.nio.charset.StandardCharsets.UTF_8),
            0,
            0,
            0,
            TensorKind.ACTIVATION,
            TensorDtype.UINT8,
            new long[0]);
    awaitConnected(timeoutNs, idle, what);
    BufferClaim claim = new BufferClaim();
    claim(
        TensorFrames.ABORT_STRINGS_OFFSET + jobId.length + sourceId.length + reason.length,
        claim,
        timeoutNs,
        idle,
        what);
    var buffer = claim.buffer();
    int frame = claim.offset();
    buffer.putInt(frame + TensorFrames.TYPE_OFFSET, TensorFrames.TYPE_ABORT);
    buffer.putInt(frame + TensorFrames.CHUNK_INDEX_OFFSET, TensorFrames.VERSION);
    buffer.putLong(frame + TensorFrames.TRANSFER_ID_OFFSET, 0);
    buffer.putByte(frame + TensorFrames.ABORT_JOB_ID_LENGTH_OFFSET, (byte) jobId.length);
    buffer.putByte(frame + TensorFrames.ABORT_SOURCE_ID_LENGTH_OFFSET, (byte) sourceId.length);
    buffer.putShort(frame + TensorFrames.ABORT_REASON_LENGTH_OFFSET, (short) reason.length);
    int cursor = frame + TensorFrames.ABORT_STRINGS_OFFSET;
    buffer.putBytes(cursor, jobId);
    buffer.putBytes(cursor + jobId.length, sourceId);
    buffer.putBytes(cursor + jobId.length + sourceId.length, reason);
    claim.commit();
  }

  private void awaitConnected(long timeoutNs, IdleStrategy idle, TensorHeader header) {
    long deadlineNs = clock.nanoTime() + timeoutNs;
    idle.reset();
    while (!publication.isConnected()) {
      if (publication.isClosed()) {
        throw closed(header);
      }
      if (clock.nanoTime() - deadlineNs > 0) {
        throw new PeerUnavailableException(
            peer.describe()
                + " did not connect within "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNs)
                + " ms; cannot send "
                + header);
      }
      idle.idle();
    }
  }

  private void claim(
      int frameLength, BufferClaim claim, long timeoutNs, IdleStrategy idle, TensorHeader header) {
    long deadlineNs = clock.nanoTime() + timeoutNs;
    idle.reset();
    while (true) {
      long result = publication.tryClaim(frameLength, claim);
      if (result > 0) {
        return;
      }
      if (result == Publication.CLOSED) {
        throw closed(header);
      }
      if (result == Publication.MAX_POSITION_EXCEEDED) {
        throw new DataPlaneException(
            "publication to " + peer.describe() + " reached its maximum position; " + header);
      }
      // BACK_PRESSURED, ADMIN_ACTION or NOT_CONNECTED: wait for the peer, never drop.
      if (clock.nanoTime() - deadlineNs > 0) {
        String why =
            result == Publication.NOT_CONNECTED
                ? " disconnected and did not come back"
                : " stopped consuming (back-pressure)";
        throw new PeerUnavailableException(
            peer.describe()
                + why
                + " for "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNs)
                + " ms while sending "
                + header);
      }
      idle.idle();
    }
  }

  private DataPlaneException closed(TensorHeader header) {
    return new DataPlaneException(
        "publication to " + peer.describe() + " is closed; cannot send " + header);
  }

  @Override
  public void close() {
    publication.close();
  }
}
