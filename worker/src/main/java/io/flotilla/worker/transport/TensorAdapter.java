package io.flotilla.worker.transport;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Decodes inbound tensor frames and reassembles tensors into off-heap buffers.
 *
 * <p>A BEGIN frame is validated (the bytes come from the network) and only then is the payload
 * buffer allocated; CHUNK frames are copied straight from the term buffer to their offset, once;
 * duplicates are ignored and chunks may come in any order (a bit set tracks which arrived). While
 * chunks arrive in order the CRC32C is computed as they land, else in one pass at the end. A
 * complete tensor whose checksum matches goes to {@link Sink#onTensor}; a mismatch, a bad frame or
 * a truncated transfer goes to {@link Sink#onRejected} and its bytes are never handed out (its
 * buffer goes back to the pool). Payload buffers come from a {@link TensorBufferPool}, so a tensor
 * whose predecessor of the same size was released lands in memory that is already mapped.
 * Single-threaded: only the receive agent calls it. Nothing is allocated per chunk.
 */
final class TensorAdapter implements FragmentHandler {

  /** Where complete and rejected tensors go. Called on the receive agent's thread. */
  interface Sink {
    void onTensor(ReceivedTensor tensor);

    /**
     * A tensor (or what claimed to be one) was rejected.
     *
     * @param key the tensor's key when its header was readable, else null
     */
    void onRejected(TensorKey key, String sourceWorkerId, String reason);

    /** The first BEGIN frame of an image told which worker sends on it. */
    void onSourceIdentified(int sessionId, String sourceWorkerId);

    /** The source gave up on a job and tells why. */
    void onAbort(String jobId, String sourceWorkerId, String reason);
  }

  /** Smallest chunk a sender may announce (the smallest allowed MTU gives 976). */
  static final int MIN_CHUNK_BYTES = 512;

  private final Sink sink;
  private final int maxTensorBytes;
  private final NanoClock clock;
  private final TensorBufferPool pool;
  private final Long2ObjectHashMap<InboundTransfer> transfers = new Long2ObjectHashMap<>();
  private InboundTransfer last;
  private long rejectedFrames;

  TensorAdapter(Sink sink, int maxTensorBytes, NanoClock clock, TensorBufferPool pool) {
    this.sink = sink;
    this.clock = clock;
    this.pool = pool;
    this.maxTensorBytes = maxTensorBytes;
  }

  @Override
  public void onFragment(DirectBuffer buffer, int offset, int length, Header header) {
    if (length < TensorFrames.COMMON_LENGTH) {
      rejectFrame("frame of " + length + " bytes is shorter than a tensor frame header");
      return;
    }
    int type = buffer.getInt(offset + TensorFrames.TYPE_OFFSET);
    long transferId = buffer.getLong(offset + TensorFrames.TRANSFER_ID_OFFSET);
    switch (type) {
      case TensorFrames.TYPE_CHUNK -> onChunk(buffer, offset, length, transferId);
      case TensorFrames.TYPE_BEGIN -> onBegin(buffer, offset, length, transferId, header);
      case TensorFrames.TYPE_END -> onEnd(buffer, offset, length, transferId);
      case TensorFrames.TYPE_ABORT -> onAbort(buffer, offset, length);
      default -> rejectFrame("unknown frame type " + type);
    }
  }

  private void onBegin(
      DirectBuffer buffer, int offset, int length, long transferId, Header aeronHeader) {
    if (length < TensorFrames.SHAPE_OFFSET) {
      rejectFrame("BEGIN frame of " + length + " bytes is truncated");
      return;
    }
    int rank = buffer.getByte(offset + TensorFrames.RANK_OFFSET) & 0xff;
    int jobIdLength = buffer.getByte(offset + TensorFrames.JOB_ID_LENGTH_OFFSET) & 0xff;
    int sourceIdLength = buffer.getByte(offset + TensorFrames.SOURCE_ID_LENGTH_OFFSET) & 0xff;
    if (rank > TensorHeader.MAX_RANK
        || length != TensorFrames.SHAPE_OFFSET + 8 * rank + jobIdLength + sourceIdLength
        || jobIdLength == 0
        || sourceIdLength == 0) {
      rejectFrame("BEGIN frame has an inconsistent length, rank or id lengths");
      return;
    }
    int cursor = offset + TensorFrames.SHAPE_OFFSET + 8 * rank;
    String jobId = buffer.getStringWithoutLengthUtf8(cursor, jobIdLength);
    String sourceId = buffer.getStringWithoutLengthUtf8(cursor + jobIdLength, sourceIdLength);
    sink.onSourceIdentified(aeronHeader.sessionId(), sourceId);

    TensorKind kind = TensorKind.fromCode(buffer.getByte(offset + TensorFrames.KIND_OFFSET));
    TensorDtype dtype = TensorDtype.fromCode(buffer.getByte(offset + TensorFrames.DTYPE_OFFSET));
    if (kind == null || dtype == null) {
      sink.onRejected(null, sourceId, "unknown tensor kind or dtype in a tensor of job " + jobId);
      return;
    }
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = buffer.getLong(offset + TensorFrames.SHAPE_OFFSET + 8 * i);
    }
    TensorHeader header;
    long expectedBytes;
    try {
      header =
          new TensorHeader(
              jobId,
              buffer.getLong(offset + TensorFrames.STEP_OFFSET),
              buffer.getInt(offset + TensorFrames.MICRO_BATCH_OFFSET),
              buffer.getInt(offset + TensorFrames.STAGE_OFFSET),
              kind,
              dtype,
              shape);
      expectedBytes = header.payloadBytes();
    } catch (IllegalArgumentException | ArithmeticException e) {
      sink.onRejected(null, sourceId, "invalid tensor header: " + e.getMessage());
      return;
    }
    TensorKey key = header.keyFrom(sourceId);
    long payloadLength = buffer.getLong(offset + TensorFrames.PAYLOAD_LENGTH_OFFSET);
    int chunkBytes = buffer.getInt(offset + TensorFrames.CHUNK_BYTES_OFFSET);
    if (payloadLength != expectedBytes) {
      sink.onRejected(
          key,
          sourceId,
          "payload length "
              + payloadLength
              + " does not match "
              + header
              + " ("
              + expectedBytes
              + ")");
      return;
    }
    if (payloadLength > maxTensorBytes) {
      sink.onRejected(
          key,
          sourceId,
          "tensor of " + payloadLength + " bytes exceeds max-tensor-size " + maxTensorBytes);
      return;
    }
    if (chunkBytes <= 0 || (chunkBytes < MIN_CHUNK_BYTES && chunkBytes < payloadLength)) {
      // The smallest MTU gives ~1000-byte chunks; tinier ones would only inflate bookkeeping.
      sink.onRejected(
          key, sourceId, "chunk size " + chunkBytes + " is below " + MIN_CHUNK_BYTES + " bytes");
      return;
    }
    InboundTransfer previous = transfers.get(transferId);
    if (previous != null) {
      // The same transfer announced twice: a retransmitted BEGIN keeps what already arrived.
      return;
    }
    ByteBuffer payload = pool.acquire((int) payloadLength);
    InboundTransfer transfer =
        new InboundTransfer(
            transferId,
            aeronHeader.sessionId(),
            key,
            header,
            payload,
            chunkBytes,
            clock.nanoTime());
    transfers.put(transferId, transfer);
    last = transfer;
  }

  private void onAbort(DirectBuffer buffer, int offset, int length) {
    if (length < TensorFrames.ABORT_STRINGS_OFFSET) {
      rejectFrame("ABORT frame of " + length + " bytes is truncated");
      return;
    }
    int jobIdLength = buffer.getByte(offset + TensorFrames.ABORT_JOB_ID_LENGTH_OFFSET) & 0xff;
    int sourceLength = buffer.getByte(offset + TensorFrames.ABORT_SOURCE_ID_LENGTH_OFFSET) & 0xff;
    int reasonLength = buffer.getShort(offset + TensorFrames.ABORT_REASON_LENGTH_OFFSET) & 0xffff;
    if (length != TensorFrames.ABORT_STRINGS_OFFSET + jobIdLength + sourceLength + reasonLength
        || jobIdLength == 0
        || sourceLength == 0) {
      rejectFrame("ABORT frame has inconsistent lengths");
      return;
    }
    int cursor = offset + TensorFrames.ABORT_STRINGS_OFFSET;
    String jobId = buffer.getStringWithoutLengthUtf8(cursor, jobIdLength);
    String source = buffer.getStringWithoutLengthUtf8(cursor + jobIdLength, sourceLength);
    String reason =
        buffer.getStringWithoutLengthUtf8(cursor + jobIdLength + sourceLength, reasonLength);
    sink.onAbort(jobId, source, reason);
  }

  private void onChunk(DirectBuffer buffer, int offset, int length, long transferId) {
    InboundTransfer transfer =
        last != null && last.transferId == transferId ? last : transfers.get(transferId);
    if (transfer == null) {
      // Chunks of a transfer already rejected or failed: counted, not reported one by one.
      rejectedFrames++;
      return;
    }
    last = transfer;
    int index = buffer.getInt(offset + TensorFrames.CHUNK_INDEX_OFFSET);
    if (index < 0 || index >= transfer.chunkCount) {
      fail(transfer, "chunk index " + index + " is outside 0.." + (transfer.chunkCount - 1));
      return;
    }
    int chunkOffset = index * transfer.chunkBytes;
    int sliceBytes = Math.min(transfer.chunkBytes, transfer.length - chunkOffset);
    if (length - TensorFrames.COMMON_LENGTH != sliceBytes) {
      fail(
          transfer,
          "chunk "
              + index
              + " carries "
              + (length - TensorFrames.COMMON_LENGTH)
              + " bytes, expected "
              + sliceBytes);
      return;
    }
    if (transfer.isReceived(index)) {
      transfer.duplicates++;
      return;
    }
    transfer.destination.putBytes(
        chunkOffset, buffer, offset + TensorFrames.COMMON_LENGTH, sliceBytes);
    transfer.markReceived(index);
    transfer.lastProgressNs = clock.nanoTime();
    if (index == transfer.nextInOrder) {
      transfer.crcView.limit(chunkOffset + sliceBytes).position(chunkOffset);
      transfer.crc.update(transfer.crcView);
      transfer.nextInOrder++;
    } else {
      transfer.inOrder = false;
    }
    tryComplete(transfer);
  }

  private void onEnd(DirectBuffer buffer, int offset, int length, long transferId) {
    InboundTransfer transfer = transfers.get(transferId);
    if (transfer == null) {
      rejectedFrames++;
      return;
    }
    if (length < TensorFrames.END_LENGTH) {
      fail(transfer, "END frame of " + length + " bytes is truncated");
      return;
    }
    transfer.endSeen = true;
    transfer.expectedChecksum = buffer.getInt(offset + TensorFrames.CHECKSUM_OFFSET);
    tryComplete(transfer);
  }

  private void tryComplete(InboundTransfer transfer) {
    if (!transfer.endSeen || transfer.receivedChunks != transfer.chunkCount) {
      return;
    }
    remove(transfer);
    int checksum;
    if (transfer.inOrder) {
      checksum = (int) transfer.crc.getValue();
    } else {
      CRC32C crc = new CRC32C();
      crc.update(transfer.payload.duplicate().clear());
      checksum = (int) crc.getValue();
    }
    if (checksum != transfer.expectedChecksum) {
      pool.release(transfer.payload);
      sink.onRejected(
          transfer.key,
          transfer.key.sourceWorkerId(),
          String.format(
              "checksum mismatch: CRC32C of the %d received bytes is %08x, sender announced %08x",
              transfer.length, checksum, transfer.expectedChecksum));
      return;
    }
    sink.onTensor(
        new ReceivedTensor(
            transfer.header,
            transfer.key.sourceWorkerId(),
            transfer.payload.clear(),
            checksum,
            pool,
            transfer.payload));
  }

  /** Fails, as truncated, every transfer still open on an image that went away. */
  void onImageGone(int sessionId) {
    List<InboundTransfer> gone = new ArrayList<>();
    transfers
        .values()
        .forEach(
            t -> {
              if (t.sessionId == sessionId) {
                gone.add(t);
              }
            });
    for (InboundTransfer t : gone) {
      fail(
          t,
          "truncated: the sender went away after "
              + t.receivedChunks
              + " of "
              + t.chunkCount
              + " chunks");
    }
  }

  /** Fails transfers that made no progress since {@code staleBeforeNs}; returns how many. */
  int expireStale(long staleBeforeNs, long timeoutMs) {
    List<InboundTransfer> stale = new ArrayList<>();
    transfers
        .values()
        .forEach(
            t -> {
              if (t.lastProgressNs - staleBeforeNs < 0) {
                stale.add(t);
              }
            });
    for (InboundTransfer t : stale) {
      fail(
          t,
          "truncated: no data for "
              + timeoutMs
              + " ms after "
              + t.receivedChunks
              + " of "
              + t.chunkCount
              + " chunks");
    }
    return stale.size();
  }

  int openTransfers() {
    return transfers.size();
  }

  long rejectedFrames() {
    return rejectedFrames;
  }

  private void fail(InboundTransfer transfer, String reason) {
    remove(transfer);
    pool.release(transfer.payload);
    sink.onRejected(transfer.key, transfer.key.sourceWorkerId(), reason);
  }

  private void remove(InboundTransfer transfer) {
    transfers.remove(transfer.transferId);
    if (last == transfer) {
      last = null;
    }
  }

  private void rejectFrame(String reason) {
    rejectedFrames++;
    sink.onRejected(null, "unknown", reason);
  }

  private static final class InboundTransfer {
    final long transferId;
    final int sessionId;
    final TensorKey key;
    final TensorHeader header;
    final ByteBuffer payload;
    final UnsafeBuffer destination;
    final ByteBuffer crcView;
    final CRC32C crc = new CRC32C();
    final int chunkBytes;
    final int length;
    final int chunkCount;
    final long[] receivedBits;
    int receivedChunks;
    int nextInOrder;
    boolean inOrder = true;
    boolean endSeen;
    int expectedChecksum;
    long duplicates;
    long lastProgressNs;

    InboundTransfer(
        long transferId,
        int sessionId,
        TensorKey key,
        TensorHeader header,
        ByteBuffer payload,
        int chunkBytes,
        long nowNs) {
      this.transferId = transferId;
      this.sessionId = sessionId;
      this.key = key;
      this.header = header;
      this.payload = payload;
      this.destination = new UnsafeBuffer(payload);
      this.crcView = payload.duplicate();
      this.chunkBytes = chunkBytes;
      this.length = payload.capacity();
      this.chunkCount = (int) ((length + (long) chunkBytes - 1) / chunkBytes);
      this.receivedBits = new long[(chunkCount + 63) >>> 6];
      this.lastProgressNs = nowNs;
    }

    boolean isReceived(int index) {
      return (receivedBits[index >>> 6] & (1L << index)) != 0;
    }

    void markReceived(int index) {
      receivedBits[index >>> 6] |= 1L << index;
      receivedChunks++;
    }
  }
}
