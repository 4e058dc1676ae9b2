package io.flotilla.worker.transport;

/**
 * Element type of a tensor payload. The code is its value on the wire.
 *
 * <p>{@link #QINT8} is the compressed form used by collectives: per block of {@link #QINT8_BLOCK}
 * elements one float32 scale (all scales first), then one signed byte per element.
 */
public enum TensorDtype {
  FLOAT32(1, 4),
  BFLOAT16(2, 2),
  FLOAT16(3, 2),
  INT32(4, 4),
  INT64(5, 8),
  INT8(6, 1),
  UINT8(7, 1),
  QINT8(8, 1);

  /** Elements per scale of {@link #QINT8}. */
  public static final int QINT8_BLOCK = 1024;

  private final int code;
  private final int elementBytes;

  TensorDtype(int code, int elementBytes) {
    this.code = code;
    this.elementBytes = elementBytes;
  }

  /** Wire code. */
  public int code() {
    return code;
  }

  /** Bytes per element (for {@link #QINT8} without the scales). */
  public int elementBytes() {
    return elementBytes;
  }

  /** Payload bytes of a tensor of this type with {@code elements} elements. */
  public long payloadBytes(long elements) {
    long bytes = elements * elementBytes;
    if (this == QINT8) {
      bytes += 4L * ((elements + QINT8_BLOCK - 1) / QINT8_BLOCK);
    }
    return bytes;
  }

  /** The dtype with this wire code, or null when none has it. */
  public static TensorDtype fromCode(int code) {
    for (TensorDtype dtype : values()) {
      if (dtype.code == code) {
        return dtype;
      }
    }
    return null;
  }
}
