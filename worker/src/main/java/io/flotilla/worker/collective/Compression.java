package io.flotilla.worker.collective;

import io.flotilla.worker.transport.TensorDtype;
import java.nio.ByteBuffer;

/**
 * How float32 values travel in a collective. {@link #NONE} is exact. {@link #BF16} keeps the top 16
 * bits of each float (round to nearest even): relative error at most 2^-9 per quantisation. {@link
 * #INT8} stores, per block of {@link TensorDtype#QINT8_BLOCK} values, a scale {@code max|v| / 127}
 * and one signed byte per value: absolute error at most {@code max|v| / 254} of the block per
 * quantisation. See docs/data-plane.md for the bound of a whole all-reduce.
 */
public enum Compression {
  NONE(TensorDtype.FLOAT32),
  BF16(TensorDtype.BFLOAT16),
  INT8(TensorDtype.QINT8);

  private final TensorDtype dtype;

  Compression(TensorDtype dtype) {
    this.dtype = dtype;
  }

  /** The dtype of what travels. */
  public TensorDtype dtype() {
    return dtype;
  }

  /** Bytes that {@code count} values take on the wire. */
  public int encodedBytes(int count) {
    return (int) dtype.payloadBytes(count);
  }

  /**
   * Encodes {@code count} little-endian floats of {@code src} starting at byte {@code srcOffset}
   * into {@code dst} from index 0; returns the bytes written.
   */
  public int encode(ByteBuffer src, int srcOffset, int count, ByteBuffer dst) {
    switch (this) {
      case NONE -> {
        for (int i = 0; i < count; i++) {
          dst.putFloat(4 * i, src.getFloat(srcOffset + 4 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < count; i++) {
          dst.putShort(2 * i, toBf16(src.getFloat(srcOffset + 4 * i)));
        }
      }
      case INT8 -> {
        int block = TensorDtype.QINT8_BLOCK;
        int blocks = (count + block - 1) / block;
        int valuesAt = 4 * blocks;
        for (int b = 0; b < blocks; b++) {
          int from = b * block;
          int to = Math.min(count, from + block);
          float maxAbs = 0f;
          for (int i = from; i < to; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(src.getFloat(srcOffset + 4 * i)));
          }
          float scale = maxAbs / 127f;
          dst.putFloat(4 * b, scale);
          float inverse = scale == 0f ? 0f : 1f / scale;
          for (int i = from; i < to; i++) {
            int q = Math.round(src.getFloat(srcOffset + 4 * i) * inverse);
            dst.put(valuesAt + i, (byte) Math.max(-127, Math.min(127, q)));
          }
        }
      }
    }
    return encodedBytes(count);
  }

  /**
   * Decodes {@code count} values from {@code encoded} (index 0) into the floats of {@code dst} at
   * byte {@code dstOffset}, adding to what is there when {@code accumulate}, else replacing.
   */
  public void decode(
      ByteBuffer encoded, int count, ByteBuffer dst, int dstOffset, boolean accumulate) {
    switch (this) {
      case NONE -> {
        for (int i = 0; i < count; i++) {
          put(dst, dstOffset + 4 * i, encoded.getFloat(4 * i), accumulate);
        }
      }
      case BF16 -> {
        for (int i = 0; i < count; i++) {
          put(dst, dstOffset + 4 * i, fromBf16(encoded.getShort(2 * i)), accumulate);
        }
      }
      case INT8 -> {
        int block = TensorDtype.QINT8_BLOCK;
        int blocks = (count + block - 1) / block;
        int valuesAt = 4 * blocks;
        for (int b = 0; b < blocks; b++) {
          float scale = encoded.getFloat(4 * b);
          int to = Math.min(count, (b + 1) * block);
          for (int i = b * block; i < to; i++) {
            put(dst, dstOffset + 4 * i, encoded.get(valuesAt + i) * scale, accumulate);
          }
        }
      }
    }
  }

  private static void put(ByteBuffer dst, int index, float value, boolean accumulate) {
    dst.putFloat(index, accumulate ? dst.getFloat(index) + value : value);
  }

  /** Float to bfloat16 bits, rounding to nearest even; NaN stays NaN. */
  static short toBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
    return (short) (rounded >>> 16);
  }

  /** bfloat16 bits to float (exact). */
  static float fromBf16(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }
}
