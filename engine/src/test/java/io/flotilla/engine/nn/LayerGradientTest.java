package io.flotilla.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LayerGradientTest {
  private static final CpuBackend BACKEND = new CpuBackend(2);

  @AfterAll
  static void close() {
    BACKEND.close();
  }

  private static void randomise(Layer layer, Random rnd) {
    for (Parameter p : layer.parameters()) {
      for (int i = 0; i < p.size(); i++) {
        p.value().data()[i] += (float) ((rnd.nextDouble() * 2 - 1) * 0.5);
      }
    }
  }

  @Test
  void linear() {
    Random rnd = new Random(1);
    Linear l = new Linear(BACKEND, "l", 5, 7);
    randomise(l, rnd);
    GradientCheck.checkLayer(l, GradientCheck.random(rnd, 1f, 2, 3, 5), true, 11);
  }

  @Test
  void layerNorm() {
    Random rnd = new Random(2);
    LayerNorm l = new LayerNorm(BACKEND, "ln", 8);
    randomise(l, rnd);
    GradientCheck.checkLayer(l, GradientCheck.random(rnd, 1f, 6, 8), true, 12);
  }

  @Test
  void geluAndRelu() {
    Random rnd = new Random(3);
    GradientCheck.checkLayer(
        new Activation(BACKEND, Activation.Kind.GELU),
        GradientCheck.random(rnd, 3f, 4, 9),
        true,
        13);
    Tensor x = GradientCheck.random(rnd, 1f, 4, 9);
    for (int i = 0; i < x.size(); i++) {
      // keep away from the kink at 0 where the finite difference is meaningless
      if (Math.abs(x.data()[i]) < 0.05f) {
        x.data()[i] = 0.5f;
      }
    }
    GradientCheck.checkLayer(new Activation(BACKEND, Activation.Kind.RELU), x, true, 14);
  }

  @Test
  void geluMatchesTanhFormula() {
    Tensor x = Tensor.wrap(new float[] {-2f, -0.5f, 0f, 1f, 3f}, 5);
    Tensor y = Tensor.zeros(5);
    BACKEND.geluForward(x, y, 5);
    for (int i = 0; i < 5; i++) {
      double v = x.get(i);
      double expected =
          0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
      assertThat((double) y.get(i)).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  @Test
  void dropoutIsSeededAndScaled() {
    Random rnd = new Random(4);
    Dropout d = new Dropout(BACKEND, 0.5f, 3);
    Tensor x = GradientCheck.random(rnd, 1f, 1000);
    float[] a = d.forward(x, new ForwardContext(true, 42)).toArray();
    float[] b = d.forward(x, new ForwardContext(true, 42)).toArray();
    float[] c = d.forward(x, new ForwardContext(true, 43)).toArray();
    assertThat(a).containsExactly(b);
    assertThat(a).isNotEqualTo(c);
    int kept = 0;
    for (int i = 0; i < a.length; i++) {
      if (a[i] != 0f) {
        kept++;
        assertThat(a[i]).isEqualTo(x.get(i) * 2f);
      }
    }
    assertThat(kept).isBetween(400, 600);
    assertThat(d.forward(x, ForwardContext.EVAL)).isSameAs(x);
    GradientCheck.checkLayer(d, x, true, 15);
  }

  @Test
  void attention() {
    Random rnd = new Random(5);
    CausalSelfAttention a = new CausalSelfAttention(BACKEND, "attn", 8, 2, 0f, 1);
    randomise(a, rnd);
    GradientCheck.checkLayer(a, GradientCheck.random(rnd, 1f, 2, 5, 8), true, 16);
  }

  @Test
  void attentionIsCausal() {
    Random rnd = new Random(6);
    CausalSelfAttention a = new CausalSelfAttention(BACKEND, "attn", 8, 2, 0f, 1);
    randomise(a, rnd);
    Tensor x = GradientCheck.random(rnd, 1f, 1, 5, 8);
    float[] before = a.forward(x, ForwardContext.EVAL).toArray();
    x.data()[4 * 8 + 3] += 1f; // change only the last position
    float[] after = a.forward(x, ForwardContext.EVAL).toArray();
    for (int i = 0; i < 4 * 8; i++) {
      assertThat(after[i]).isEqualTo(before[i]);
    }
    assertThat(after[4 * 8]).isNotEqualTo(before[4 * 8]);
  }

  @Test
  void blockWithResiduals() {
    Random rnd = new Random(7);
    GptBlock b = new GptBlock(BACKEND, 0, 8, 2, 0f);
    randomise(b, rnd);
    GradientCheck.checkLayer(b, GradientCheck.random(rnd, 1f, 2, 4, 8), true, 17);
  }

  @Test
  void embeddingAndTiedHead() {
    Random rnd = new Random(8);
    GptEmbedding e = new GptEmbedding(BACKEND, 11, 6, 8, 0f);
    randomise(e, rnd);
    Tensor tokens = Tensor.wrap(new float[] {1, 5, 5, 10, 0, 3, 3, 3}, 2, 4);
    GradientCheck.checkLayer(e, tokens, false, 18);
    GptHead h = new GptHead(BACKEND, 8, e.tokenTable());
    randomise(h, rnd);
    GradientCheck.checkLayer(h, GradientCheck.random(rnd, 1f, 2, 4, 8), true, 19);
  }

  @Test
  void crossEntropy() {
    Random rnd = new Random(9);
    Tensor logits = GradientCheck.random(rnd, 2f, 3, 7);
    Tensor targets = Tensor.wrap(new float[] {2, -1, 6}, 3);
    CrossEntropyLoss loss = new CrossEntropyLoss(BACKEND);
    double l = loss.forwardBackward(logits, targets, 1f);
    assertThat(loss.lastCount()).isEqualTo(2);
    Tensor grad = loss.grad().copy();
    for (int j = 0; j < 7; j++) {
      assertThat(grad.get(7 + j)).isZero();
    }
    CrossEntropyLoss other = new CrossEntropyLoss(BACKEND);
    GradientCheck.compare(
        "logits", logits, grad, () -> other.forwardBackward(logits, targets, 1f), rnd);
    assertThat(l).isPositive();
  }
}
