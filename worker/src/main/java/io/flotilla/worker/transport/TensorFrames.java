package io.flotilla.worker.transport;

import java.nio.charset.StandardCharsets;
import org.agrona.MutableDirectBuffer;

/**
 * Wire layout of tensor transfers. Every frame fits in one Aeron fragment (no reassembly buffer),
 * little-endian:
 *
 * <pre>
 * common    0 int type | 4 int chunkIndex (CHUNK) / version (BEGIN, END) | 8 long transferId
 * BEGIN    16 long payloadLength | 24 int chunkBytes | 28 int reserved | 32 long step
 *          40 int microBatch | 44 int stage | 48 byte kind | 49 byte dtype | 50 byte rank
 *          51 byte jobIdLength | 52 byte sourceIdLength (unsigned) | 56 long[rank] shape
 *          then jobId and source worker id, UTF-8
 * CHUNK    16 payload bytes [chunkIndex * chunkBytes, + min(chunkBytes, rest))
 * END      16 int crc32c of the whole payload
 * ABORT    16 byte jobIdLength | 17 byte sourceIdLength | 18 short reasonLength
 *          20 jobId, source worker id, reason (UTF-8)
 * </pre>
 *
 * A transfer is BEGIN, then every CHUNK once (in any order, duplicates ignored), then END.
 */
final class TensorFrames {
  static final int TYPE_BEGIN = 1;
  static final int TYPE_CHUNK = 2;
  static final int TYPE_END = 3;
  static final int TYPE_ABORT = 4;
  static final int VERSION = 1;

  static final int TYPE_OFFSET = 0;
  static final int CHUNK_INDEX_OFFSET = 4;
  static final int TRANSFER_ID_OFFSET = 8;
  static final int COMMON_LENGTH = 16;

  static final int PAYLOAD_LENGTH_OFFSET = 16;
  static final int CHUNK_BYTES_OFFSET = 24;
  static final int STEP_OFFSET = 32;
  static final int MICRO_BATCH_OFFSET = 40;
  static final int STAGE_OFFSET = 44;
  static final int KIND_OFFSET = 48;
  static final int DTYPE_OFFSET = 49;
  static final int RANK_OFFSET = 50;
  static final int JOB_ID_LENGTH_OFFSET = 51;
  static final int SOURCE_ID_LENGTH_OFFSET = 52;
  static final int SHAPE_OFFSET = 56;

  static final int CHECKSUM_OFFSET = 16;
  static final int END_LENGTH = 20;

  static final int ABORT_JOB_ID_LENGTH_OFFSET = 16;
  static final int ABORT_SOURCE_ID_LENGTH_OFFSET = 17;
  static final int ABORT_REASON_LENGTH_OFFSET = 18;
  static final int ABORT_STRINGS_OFFSET = 20;
  static final int MAX_REASON_BYTES = 400;

  /** Largest BEGIN frame: fits the smallest allowed MTU. */
  static final int MAX_BEGIN_LENGTH =
      SHAPE_OFFSET + 8 * TensorHeader.MAX_RANK + 2 * TensorHeader.MAX_ID_BYTES;

  private TensorFrames() {}

  /** Writes a BEGIN frame at {@code offset}; returns its length. */
  static int encodeBegin(
      MutableDirectBuffer buffer,
      int offset,
      long transferId,
      long payloadLength,
      int chunkBytes,
      TensorHeader header,
      byte[] jobId,
      byte[] sourceId) {
    long[] shape = header.shape();
    buffer.putInt(offset + TYPE_OFFSET, TYPE_BEGIN);
    buffer.putInt(offset + CHUNK_INDEX_OFFSET, VERSION);
    buffer.putLong(offset + TRANSFER_ID_OFFSET, transferId);
    buffer.putLong(offset + PAYLOAD_LENGTH_OFFSET, payloadLength);
    buffer.putInt(offset + CHUNK_BYTES_OFFSET, chunkBytes);
    buffer.putInt(offset + 28, 0);
    buffer.putLong(offset + STEP_OFFSET, header.step());
    buffer.putInt(offset + MICRO_BATCH_OFFSET, header.microBatch());
    buffer.putInt(offset + STAGE_OFFSET, header.stage());
    buffer.putByte(offset + KIND_OFFSET, (byte) header.kind().code());
    buffer.putByte(offset + DTYPE_OFFSET, (byte) header.dtype().code());
    buffer.putByte(offset + RANK_OFFSET, (byte) shape.length);
    buffer.putByte(offset + JOB_ID_LENGTH_OFFSET, (byte) jobId.length);
    buffer.putByte(offset + SOURCE_ID_LENGTH_OFFSET, (byte) sourceId.length);
    buffer.putByte(offset + 53, (byte) 0);
    buffer.putShort(offset + 54, (short) 0);
    int cursor = offset + SHAPE_OFFSET;
    for (long dim : shape) {
      buffer.putLong(cursor, dim);
      cursor += 8;
    }
    buffer.putBytes(cursor, jobId);
    cursor += jobId.length;
    buffer.putBytes(cursor, sourceId);
    cursor += sourceId.length;
    return cursor - offset;
  }

  /** Length of the BEGIN frame for this header and ids. */
  static int beginLength(TensorHeader header, byte[] jobId, byte[] sourceId) {
    return SHAPE_OFFSET + 8 * header.shape().length + jobId.length + sourceId.length;
  }

  static byte[] idBytes(String id, String what) {
    byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
    if (bytes.length == 0 || bytes.length > TensorHeader.MAX_ID_BYTES) {
      throw new IllegalArgumentException(
          what + " must be 1.." + TensorHeader.MAX_ID_BYTES + " UTF-8 bytes, was '" + id + "'");
    }
    return bytes;
  }
}
