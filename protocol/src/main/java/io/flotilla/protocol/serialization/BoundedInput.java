package io.flotilla.protocol.serialization;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * A Kryo {@link Input} over one received message that refuses to allocate for lengths the message
 * cannot hold.
 *
 * <p>Kryo allocates arrays and strings from length prefixes before it reads their contents; bytes
 * from an untrusted peer could claim a two-gigabyte string in a 40-byte message. Every element
 * needs at least one byte, so any count larger than the bytes left is a lie and is rejected before
 * anything is allocated.
 */
public final class BoundedInput extends Input {

  /** Reads all of {@code bytes}. */
  public BoundedInput(byte[] bytes) {
    super(bytes);
  }

  /** An input to be given its bytes with {@link #setBuffer(byte[])} (one per pooled decoder). */
  public BoundedInput() {
    super();
  }

  /** Bytes not yet read. */
  public int remaining() {
    return limit - position;
  }

  /**
   * Checks that {@code count} elements of at least {@code minBytesEach} bytes fit in what is left.
   *
   * @throws KryoException naming the claimed and the available size when they do not
   */
  public void checkCount(long count, int minBytesEach, String what) {
    if (count < 0 || count * minBytesEach > remaining()) {
      throw new KryoException(
          what
              + " claims "
              + count
              + " elements but only "
              + remaining()
              + " bytes remain in the message");
    }
  }

  @Override
  public byte[] readBytes(int length) {
    checkCount(length, 1, "byte array");
    return super.readBytes(length);
  }

  @Override
  public int[] readInts(int length) {
    checkCount(length, 4, "int array");
    return super.readInts(length);
  }

  @Override
  public int[] readInts(int length, boolean optimizePositive) {
    checkCount(length, 1, "int array");
    return super.readInts(length, optimizePositive);
  }

  @Override
  public long[] readLongs(int length) {
    checkCount(length, 8, "long array");
    return super.readLongs(length);
  }

  @Override
  public long[] readLongs(int length, boolean optimizePositive) {
    checkCount(length, 1, "long array");
    return super.readLongs(length, optimizePositive);
  }

  @Override
  public float[] readFloats(int length) {
    checkCount(length, 4, "float array");
    return super.readFloats(length);
  }

  @Override
  public double[] readDoubles(int length) {
    checkCount(length, 8, "double array");
    return super.readDoubles(length);
  }

  @Override
  public short[] readShorts(int length) {
    checkCount(length, 2, "short array");
    return super.readShorts(length);
  }

  @Override
  public char[] readChars(int length) {
    checkCount(length, 2, "char array");
    return super.readChars(length);
  }

  @Override
  public boolean[] readBooleans(int length) {
    checkCount(length, 1, "boolean array");
    return super.readBooleans(length);
  }

  @Override
  public String readString() {
    checkStringLength();
    return super.readString();
  }

  @Override
  public StringBuilder readStringBuilder() {
    checkStringLength();
    return super.readStringBuilder();
  }

  /**
   * Decodes, without consuming, the length of a length-prefixed (non-ASCII) string in Kryo's
   * format: 6 bits in the first byte (bit 7: more, bit 8: UTF-8 marker), then 7 bits per byte.
   */
  private void checkStringLength() {
    if (position >= limit) {
      return; // super reports the underflow
    }
    int p = position;
    byte b = buffer[p++];
    if ((b & 0x80) == 0) {
      return; // ASCII strings carry no length; they end at a marked byte
    }
    long charCount = b & 0x3F;
    if ((b & 0x40) != 0) {
      int shift = 6;
      do {
        if (p >= limit) {
          throw new KryoException("string length prefix is truncated");
        }
        b = buffer[p++];
        charCount |= (long) (b & 0x7F) << shift;
        shift += 7;
      } while ((b & 0x80) != 0 && shift <= 27);
    }
    // 0 encodes null and 1 the empty string; n encodes n-1 characters of at least a byte each.
    if (charCount > 1 && charCount - 1 > limit - p) {
      throw new KryoException(
          "string claims "
              + (charCount - 1)
              + " characters but only "
              + (limit - p)
              + " bytes remain in the message");
    }
  }
}
