package io.flotilla.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.nn.CrossEntropyLoss;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.nn.GradientCheck;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ModelStageTest {
  private static final ModelConfig GPT = ModelConfig.gpt(3, 16, 2, 8, 13, 0.1f);

  private static Tensor tokens(int b, int t, int vocab, long seed) {
    Random r = new Random(seed);
    Tensor x = Tensor.zeros(b, t);
    for (int i = 0; i < x.size(); i++) {
      x.data()[i] = r.nextInt(vocab);
    }
    return x;
  }

  /** Runs forward + loss + backward and returns logits followed by all gradients by name. */
  private static Map<String, float[]> run(CpuBackend backend, ModelConfig cfg, int stages) {
    Model model = Model.create(backend, cfg, 42);
    Tensor x = tokens(3, 8, cfg.vocab(), 1);
    Tensor y = tokens(3, 8, cfg.vocab(), 2);
    ForwardContext ctx = new ForwardContext(true, 99);
    List<Stage> parts = new ArrayList<>();
    for (int k = 0; k < stages; k++) {
      parts.add(model.stage(k, stages));
    }
    model.zeroGrad();
    Tensor a = x;
    for (Stage s : parts) {
      a = s.forward(a, ctx).copy(); // stages exchange copies, as over the network
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    out.put("logits", a.toArray());
    CrossEntropyLoss loss = new CrossEntropyLoss(backend);
    loss.forwardBackward(a, y, 1f / y.size());
    Tensor g = loss.grad().copy();
    for (int k = stages - 1; k >= 0; k--) {
      Tensor gi = parts.get(k).backward(g);
      g = gi == null ? null : gi.copy();
    }
    assertThat(g).isNull();
    for (Parameter p : model.parameters()) {
      out.put(p.name(), p.grad().toArray());
    }
    return out;
  }

  @Test
  void stagesInSequenceEqualTheWholeModelBitForBit() {
    try (CpuBackend backend = new CpuBackend(2)) {
      Map<String, float[]> whole = run(backend, GPT, 1);
      for (int n : new int[] {2, 3, 5}) {
        Map<String, float[]> staged = run(backend, GPT, n);
        assertThat(staged.keySet()).containsExactlyElementsOf(whole.keySet());
        whole.forEach(
            (k, v) -> assertThat(staged.get(k)).as("%s with %d stages", k, n).containsExactly(v));
      }
    }
  }

  @Test
  void resultsAreBitIdenticalAcrossThreadCountsAndRuns() {
    Map<String, float[]> one;
    try (CpuBackend b1 = new CpuBackend(1)) {
      one = run(b1, GPT, 1);
    }
    for (int threads : new int[] {2, 3}) {
      try (CpuBackend b = new CpuBackend(threads)) {
        Map<String, float[]> other = run(b, GPT, 1);
        one.forEach(
            (k, v) -> assertThat(other.get(k)).as("%s, %d threads", k, threads).containsExactly(v));
      }
    }
  }

  @Test
  void gptParameterNamesFollowHuggingFace() {
    try (CpuBackend backend = new CpuBackend(1)) {
      Model m = Model.create(backend, ModelConfig.gpt(2, 8, 2, 4, 10, 0f), 1);
      assertThat(m.parameterMap().keySet())
          .contains(
              "transformer.wte.weight",
              "transformer.wpe.weight",
              "transformer.h.0.ln_1.weight",
              "transformer.h.0.attn.c_attn.weight",
              "transformer.h.0.attn.c_attn.bias",
              "transformer.h.0.attn.c_proj.weight",
              "transformer.h.1.ln_2.bias",
              "transformer.h.1.mlp.c_fc.weight",
              "transformer.h.1.mlp.c_proj.weight",
              "transformer.ln_f.weight")
          .hasSize(2 + 2 * 12 + 2);
      assertThat(m.parameterMap().get("transformer.h.0.attn.c_attn.weight").value().shape())
          .containsExactly(8, 24);
      assertThat(m.layerCount()).isEqualTo(4);
      assertThatThrownBy(() -> m.stage(0, 5)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void wholeGptGradientMatchesFiniteDifferences() {
    try (CpuBackend backend = new CpuBackend(2)) {
      ModelConfig cfg = ModelConfig.gpt(2, 8, 2, 5, 7, 0f);
      Model model = Model.create(backend, cfg, 3);
      Random rnd = new Random(4);
      for (Parameter p : model.parameters()) {
        for (int i = 0; i < p.size(); i++) {
          p.value().data()[i] += (float) (rnd.nextGaussian() * 0.3);
        }
      }
      Tensor x = tokens(2, 5, 7, 5);
      Tensor y = tokens(2, 5, 7, 6);
      CrossEntropyLoss loss = new CrossEntropyLoss(backend);
      model.zeroGrad();
      loss.forwardBackward(model.forward(x, ForwardContext.EVAL), y, 1f);
      model.backward(loss.grad());
      for (Parameter p : model.parameters()) {
        GradientCheck.compare(
            p.name(),
            p.value(),
            p.grad().copy(),
            () -> loss.forwardBackward(model.forward(x, ForwardContext.EVAL), y, 1f),
            rnd);
      }
    }
  }

  @Test
  void mlpGradientMatchesFiniteDifferences() {
    try (CpuBackend backend = new CpuBackend(2)) {
      Model model = Model.create(backend, ModelConfig.mlp(6, List.of(9, 5), 4, 0f), 3);
      Random rnd = new Random(8);
      Tensor x = GradientCheck.random(rnd, 1f, 5, 6);
      Tensor y = Tensor.wrap(new float[] {0, 3, 1, 2, 3}, 5);
      CrossEntropyLoss loss = new CrossEntropyLoss(backend);
      model.zeroGrad();
      loss.forwardBackward(model.forward(x, ForwardContext.EVAL), y, 1f);
      model.backward(loss.grad());
      for (Parameter p : model.parameters()) {
        GradientCheck.compare(
            p.name(),
            p.value(),
            p.grad().copy(),
            () -> loss.forwardBackward(model.forward(x, ForwardContext.EVAL), y, 1f),
            rnd,
            1e-3f);
      }
    }
  }
}
