package io.flotilla.worker.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/** Deterministic pseudo-random off-heap tensors for tests. */
public final class TestingTensors {
  private TestingTensors() {}

  /** {@code bytes} pseudo-random bytes, off-heap, little-endian. */
  public static ByteBuffer randomBytes(int bytes, long seed) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long x = seed * 0x9E3779B97F4A7C15L + 1;
    int i = 0;
    for (; i + 8 <= bytes; i += 8) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      buffer.putLong(i, x);
    }
    for (; i < bytes; i++) {
      buffer.put(i, (byte) (i * 31 + seed));
    }
    return buffer;
  }

  /** {@code count} floats uniformly in [-1, 1), off-heap, little-endian. */
  public static ByteBuffer randomFloats(int count, long seed) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(4 * count).order(ByteOrder.LITTLE_ENDIAN);
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    for (int i = 0; i < count; i++) {
      buffer.putFloat(4 * i, (float) (random.nextDouble() * 2 - 1));
    }
    return buffer;
  }

  public static int crc32c(ByteBuffer buffer) {
    CRC32C crc = new CRC32C();
    crc.update(buffer.duplicate());
    return (int) crc.getValue();
  }

  /** A byte header describing {@code bytes} bytes. */
  public static TensorHeader bytesHeader(String job, long step, TensorKind kind, int bytes) {
    return new TensorHeader(job, step, 0, 1, kind, TensorDtype.UINT8, new long[] {bytes});
  }
}
