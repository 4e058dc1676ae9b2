package io.flotilla.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.Random;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Layer by layer: every {@link ComputeBackend} operation on the CUDA backend against the CPU
 * backend (which matches PyTorch, see PyTorchParityTest) on the same random inputs, in FP32 within
 * {@value #FP32_TOLERANCE} relative error. Runs only where a GPU is usable.
 */
class CudaLayerParityTest {
  static final double FP32_TOLERANCE = 1e-5;

  private static CpuBackend cpu;
  private static CudaBackend gpu;

  @BeforeEach
  void start() {
    GpuAssumptions.assumeGpu();
    if (gpu == null) {
      cpu = new CpuBackend(2);
      gpu = CudaBackend.create(CudaBackend.Options.defaults(Precision.FP32));
    }
  }

  @AfterAll
  static void stop() {
    if (gpu != null) {
      gpu.close();
    }
    if (cpu != null) {
      cpu.close();
    }
  }

  private static Tensor random(Random r, int... shape) {
    Tensor t = Tensor.zeros(shape);
    for (int i = 0; i < t.size(); i++) {
      t.data()[i] = (float) (r.nextGaussian());
    }
    return t;
  }

  static double relativeError(Tensor actual, Tensor expected) {
    double maxDiff = 0;
    double maxRef = 1e-12;
    for (int i = 0; i < expected.size(); i++) {
      maxDiff = Math.max(maxDiff, Math.abs(actual.get(i) - expected.get(i)));
      maxRef = Math.max(maxRef, Math.abs(expected.get(i)));
    }
    return maxDiff / maxRef;
  }

  /** Runs {@code op} on copies of {@code tensors} on both backends; compares every tensor after. */
  private static void same(String name, Tensor[] tensors, BiConsumer<ComputeBackend, Tensor[]> op) {
    Tensor[] a = new Tensor[tensors.length];
    Tensor[] b = new Tensor[tensors.length];
    for (int i = 0; i < tensors.length; i++) {
      a[i] = tensors[i] == null ? null : tensors[i].copy();
      b[i] = tensors[i] == null ? null : tensors[i].copy();
    }
    op.accept(cpu, a);
    op.accept(gpu, b);
    for (int i = 0; i < tensors.length; i++) {
      if (a[i] != null) {
        assertThat(relativeError(b[i], a[i]))
            .as("%s: tensor %d", name, i)
            .isLessThanOrEqualTo(FP32_TOLERANCE);
      }
    }
  }

  @Test
  void gemmWithOffsetsAndTransposes() {
    Random r = new Random(1);
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        same(
            "gemm " + ta + " " + tb,
            new Tensor[] {random(r, 40, 40), random(r, 40, 40), random(r, 40, 40)},
            (be, t) ->
                be.gemm(ta, tb, 7, 9, 11, 0.5f, t[0], 3, 40, t[1], 5, 40, 0.25f, t[2], 2, 40));
      }
    }
  }

  @Test
  void linear() {
    Random r = new Random(2);
    same(
        "linearForward",
        new Tensor[] {random(r, 13, 17), random(r, 17, 19), random(r, 19), random(r, 13, 19)},
        (be, t) -> be.linearForward(t[0], t[1], t[2], t[3], 13, 17, 19));
    same(
        "linearBackward",
        new Tensor[] {
          random(r, 13, 17),
          random(r, 17, 19),
          random(r, 13, 19),
          random(r, 13, 17),
          random(r, 17, 19),
          random(r, 19)
        },
        (be, t) -> be.linearBackward(t[0], t[1], t[2], t[3], t[4], t[5], 13, 17, 19));
  }

  @Test
  void layerNorm() {
    Random r = new Random(3);
    int n = 11;
    int c = 300;
    same(
        "layerNormForward",
        new Tensor[] {
          random(r, n, c), random(r, c), random(r, c), random(r, n, c), random(r, n), random(r, n)
        },
        (be, t) -> be.layerNormForward(t[0], t[1], t[2], t[3], t[4], t[5], n, c, 1e-5f));
    Tensor x = random(r, n, c);
    Tensor mean = Tensor.zeros(n);
    Tensor rstd = Tensor.zeros(n);
    cpu.layerNormForward(
        x, random(r, c), random(r, c), Tensor.zeros(n, c), mean, rstd, n, c, 1e-5f);
    same(
        "layerNormBackward",
        new Tensor[] {
          x, random(r, c), mean, rstd, random(r, n, c), random(r, n, c), random(r, c), random(r, c)
        },
        (be, t) -> be.layerNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], n, c));
  }

  @Test
  void elementwise() {
    Random r = new Random(4);
    int n = 100_003;
    same(
        "gelu",
        new Tensor[] {random(r, n), random(r, n)},
        (be, t) -> be.geluForward(t[0], t[1], n));
    same(
        "geluBackward",
        new Tensor[] {random(r, n), random(r, n), random(r, n)},
        (be, t) -> be.geluBackward(t[0], t[1], t[2], n));
    same(
        "relu",
        new Tensor[] {random(r, n), random(r, n)},
        (be, t) -> be.reluForward(t[0], t[1], n));
    same(
        "reluBackward",
        new Tensor[] {random(r, n), random(r, n), random(r, n)},
        (be, t) -> be.reluBackward(t[0], t[1], t[2], n));
    same(
        "add",
        new Tensor[] {random(r, n), random(r, n), random(r, n)},
        (be, t) -> be.add(t[0], t[1], t[2], n));
    same(
        "add in place",
        new Tensor[] {random(r, n), random(r, n)},
        (be, t) -> be.add(t[0], t[1], t[0], n));
    same(
        "scale",
        new Tensor[] {random(r, n), random(r, n)},
        (be, t) -> be.scale(t[0], 0.3f, t[1], n));
    same(
        "dropout",
        new Tensor[] {random(r, n), random(r, n), random(r, n)},
        (be, t) -> be.dropoutForward(t[0], t[1], t[2], n, 0.2f, 42L));
    same(
        "dropoutBackward",
        new Tensor[] {random(r, n), random(r, n), random(r, n)},
        (be, t) -> be.dropoutBackward(t[0], t[1], t[2], n));
  }

  @Test
  void embedding() {
    Random r = new Random(5);
    int b = 3;
    int t = 8;
    int c = 40;
    int vocab = 17;
    Tensor tokens = Tensor.zeros(b, t);
    for (int i = 0; i < tokens.size(); i++) {
      tokens.data()[i] = r.nextInt(vocab);
    }
    same(
        "embeddingForward",
        new Tensor[] {tokens, random(r, vocab, c), random(r, t, c), random(r, b, t, c)},
        (be, x) -> be.embeddingForward(x[0], x[1], x[2], x[3], b, t, c));
    same(
        "embeddingBackward",
        new Tensor[] {tokens, random(r, b, t, c), random(r, vocab, c), random(r, t, c)},
        (be, x) -> be.embeddingBackward(x[0], x[1], x[2], x[3], b, t, c));
    tokens.data()[5] = vocab;
    assertThatThrownBy(
            () ->
                gpu.embeddingForward(
                    tokens, random(r, vocab, c), random(r, t, c), random(r, b, t, c), b, t, c))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("position 5");
  }

  @Test
  void attention() {
    Random r = new Random(6);
    int b = 2;
    int t = 9;
    int c = 24;
    int h = 3;
    Tensor qkv = random(r, b, t, 3 * c);
    same(
        "attentionForward",
        new Tensor[] {qkv, random(r, b, h, t, t), random(r, b, t, c)},
        (be, x) -> be.attentionForward(x[0], x[1], x[2], b, t, c, h));
    Tensor att = Tensor.zeros(b, h, t, t);
    cpu.attentionForward(qkv, att, Tensor.zeros(b, t, c), b, t, c, h);
    same(
        "attentionBackward",
        new Tensor[] {qkv, att, random(r, b, t, c), random(r, b, h, t, t), random(r, b, t, 3 * c)},
        (be, x) -> be.attentionBackward(x[0], x[1], x[2], x[3], x[4], b, t, c, h));
  }

  @Test
  void crossEntropyAndOptimizer() {
    Random r = new Random(7);
    int n = 12;
    int v = 70;
    Tensor targets = Tensor.zeros(n);
    for (int i = 0; i < n; i++) {
      targets.data()[i] = i == 3 ? -1 : r.nextInt(v);
    }
    same(
        "crossEntropy",
        new Tensor[] {random(r, n, v), targets, random(r, n), random(r, n, v)},
        (be, x) -> be.crossEntropy(x[0], x[1], x[2], x[3], n, v, 0.1f));
    Tensor g = random(r, 5000);
    assertThat(Math.abs(gpu.sumOfSquares(g, 5000) - cpu.sumOfSquares(g, 5000)))
        .isLessThanOrEqualTo(1e-9 * cpu.sumOfSquares(g, 5000));
    Tensor v0 = random(r, 5000);
    for (int i = 0; i < v0.size(); i++) {
      v0.data()[i] = Math.abs(v0.data()[i]);
    }
    same(
        "adamw",
        new Tensor[] {random(r, 5000), random(r, 5000), random(r, 5000), v0},
        (be, x) -> be.adamw(x[0], x[1], x[2], x[3], 5000, 1e-3f, 0.9f, 0.99f, 1e-8f, 0.1f, 3));
  }

  @Test
  void repeatedStepsReuseDeviceMemory() {
    Random r = new Random(8);
    Tensor x = random(r, 64, 64);
    Tensor w = random(r, 64, 64);
    Tensor y = Tensor.zeros(64, 64);
    gpu.linearForward(x, w, null, y, 64, 64, 64);
    long allocations = gpu.memoryStats().allocations();
    for (int i = 0; i < 10; i++) {
      gpu.linearForward(x, w, null, y, 64, 64, 64);
    }
    assertThat(gpu.memoryStats().allocations()).isEqualTo(allocations);
    assertThat(gpu.memoryStats().bytesInUse()).isZero();
  }

  @Test
  void bitIdenticalOnRepeat() {
    Random r = new Random(9);
    Tensor qkv = random(r, 2, 16, 96);
    Tensor att1 = Tensor.zeros(2, 4, 16, 16);
    Tensor att2 = Tensor.zeros(2, 4, 16, 16);
    Tensor y1 = Tensor.zeros(2, 16, 32);
    Tensor y2 = Tensor.zeros(2, 16, 32);
    gpu.attentionForward(qkv, att1, y1, 2, 16, 32, 4);
    gpu.attentionForward(qkv, att2, y2, 2, 16, 32, 4);
    assertThat(y2.toArray()).isEqualTo(y1.toArray());
    assertThat(gpu.determinismClass()).startsWith("cuda-sm").endsWith("-fp32");
  }
}
