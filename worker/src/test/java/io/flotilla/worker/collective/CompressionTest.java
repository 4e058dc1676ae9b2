package io.flotilla.worker.collective;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.worker.transport.TestingTensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class CompressionTest {

  @Test
  void bf16RoundsToNearestAndKeepsExactValues() {
    assertThat(Compression.fromBf16(Compression.toBf16(1.0f))).isEqualTo(1.0f);
    assertThat(Compression.fromBf16(Compression.toBf16(-2.5f))).isEqualTo(-2.5f);
    float x = 1.0f + 0x1.8p-8f; // above the halfway point between two bf16 values
    assertThat(Compression.fromBf16(Compression.toBf16(x))).isEqualTo(1.0f + 0x1p-7f);
    assertThat(Float.isNaN(Compression.fromBf16(Compression.toBf16(Float.NaN)))).isTrue();
  }

  @Test
  void int8ErrorIsAtMostHalfAStepOfEachBlock() {
    int count = 5000;
    ByteBuffer values = TestingTensors.randomFloats(count, 3);
    values.putFloat(0, 8f); // one large value: only its own block gets a coarse scale
    ByteBuffer encoded =
        ByteBuffer.allocateDirect(Compression.INT8.encodedBytes(count))
            .order(ByteOrder.LITTLE_ENDIAN);
    Compression.INT8.encode(values, 0, count, encoded);
    ByteBuffer decoded = ByteBuffer.allocateDirect(4 * count).order(ByteOrder.LITTLE_ENDIAN);
    Compression.INT8.decode(encoded, count, decoded, 0, false);
    for (int i = 0; i < count; i++) {
      double blockMax = i < 1024 ? 8 : 1;
      assertThat((double) Math.abs(decoded.getFloat(4 * i) - values.getFloat(4 * i)))
          .isLessThanOrEqualTo(blockMax / 254 + 1e-6);
    }
  }
}
