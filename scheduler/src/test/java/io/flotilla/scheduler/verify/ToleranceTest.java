package io.flotilla.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.job.RedundancyMode;
import io.flotilla.protocol.job.VerificationSpec;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ToleranceTest {

  @Test
  void relativeAndAbsolutePartsBothCount() {
    Tolerance t = new Tolerance(1e-3, 1e-6);
    assertThat(t.agree(new float[] {1000f}, new float[] {1000.9f})).isTrue();
    assertThat(t.agree(new float[] {1000f}, new float[] {1001.1f})).isFalse();
    // near zero only the absolute part helps
    assertThat(t.agree(new float[] {0f}, new float[] {5e-7f})).isTrue();
    assertThat(t.agree(new float[] {0f}, new float[] {5e-6f})).isFalse();
    assertThat(t.firstMismatch(new float[] {1, 2, 3}, new float[] {1, 2, 4})).isEqualTo(2);
    assertThat(t.firstMismatch(new float[] {1}, new float[] {1, 2})).isEqualTo(Integer.MAX_VALUE);
    assertThat(t.agree(new float[] {Float.NaN}, new float[] {Float.NaN})).isFalse();
    assertThat(
            t.agree(new float[] {Float.POSITIVE_INFINITY}, new float[] {Float.POSITIVE_INFINITY}))
        .isFalse();
  }

  @Test
  void comesFromTheJobSpec() {
    VerificationSpec spec = new VerificationSpec(RedundancyMode.ADAPTIVE, 2, 1e-5, 0.05, 1e-8);
    assertThat(Tolerance.of(spec)).isEqualTo(new Tolerance(1e-5, 1e-8));
    assertThatThrownBy(() -> new Tolerance(-1, 0)).hasMessageContaining("0..1");
  }

  /** Property: agreement is symmetric and reflexive for finite tensors. */
  @Test
  void property_symmetricAndReflexive() {
    Random random = new Random(3);
    Tolerance t = new Tolerance(1e-4, 1e-6);
    for (int trial = 0; trial < 1000; trial++) {
      float[] a = new float[1 + random.nextInt(8)];
      float[] b = new float[a.length];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(8) - 4));
        b[i] = (float) (a[i] * (1 + random.nextGaussian() * 1e-4) + random.nextGaussian() * 1e-6);
      }
      assertThat(t.agree(a, b)).isEqualTo(t.agree(b, a));
      assertThat(t.agree(a, a)).isTrue();
    }
  }
}
