package io.flotilla.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.optim.AdamW;
import io.flotilla.engine.optim.OptimizerConfig;
import io.flotilla.engine.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @TempDir Path dir;

  @Test
  void safetensorsRoundTripWithHuggingFaceHeader() throws Exception {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("a", Tensor.wrap(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    t.put("b", Tensor.wrap(new float[] {-1.5f}, 1));
    Path f = dir.resolve("x.safetensors");
    Safetensors.write(f, t, Map.of("format", "pt"));
    byte[] bytes = Files.readAllBytes(f);
    long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(headerLen % 8).isZero();
    String header = new String(bytes, 8, (int) headerLen, java.nio.charset.StandardCharsets.UTF_8);
    assertThat(header)
        .contains("\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}")
        .contains("\"__metadata__\":{\"format\":\"pt\"}");
    Safetensors.Contents back = Safetensors.read(f);
    assertThat(back.tensors().get("a").toArray()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(back.tensors().get("a").shape()).containsExactly(2, 3);
    assertThat(back.tensors().get("b").toArray()).containsExactly(-1.5f);
    assertThat(back.metadata()).containsEntry("format", "pt");

    Path bad = dir.resolve("bad.safetensors");
    Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length - 4));
    assertThatThrownBy(() -> Safetensors.read(bad)).hasMessageContaining("data_offsets");
    Files.write(bad, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Safetensors.read(bad)).hasMessageContaining("shorter");
  }

  @Test
  void gptCheckpointRoundTripsWithOptimizerState() throws Exception {
    try (CpuBackend backend = new CpuBackend(1)) {
      Model model = Model.create(backend, ModelConfig.gpt(2, 8, 2, 6, 10, 0f), 5);
      AdamW opt = new AdamW(backend, model.parameters(), OptimizerConfig.defaults());
      for (Parameter p : model.parameters()) {
        java.util.Arrays.fill(p.grad().data(), 0.01f);
      }
      opt.step(1e-3f);
      Checkpoints.save(model, opt, 7, Map.of("k", "v"), dir);
      assertThat(Files.readString(dir.resolve("config.json")))
          .contains("\"model_type\" : \"gpt2\"")
          .contains("\"n_layer\" : 2")
          .contains("\"activation_function\" : \"gelu_new\"");
      Model loaded = Checkpoints.loadModel(backend, dir);
      assertThat(loaded.config()).isEqualTo(model.config());
      Tensor x = Tensor.wrap(new float[] {1, 2, 3, 9}, 1, 4);
      float[] a = model.forward(x, ForwardContext.EVAL).toArray();
      float[] b = loaded.forward(x, ForwardContext.EVAL).toArray();
      assertThat(b).containsExactly(a);
      AdamW opt2 = new AdamW(backend, loaded.parameters(), OptimizerConfig.defaults());
      assertThat(Checkpoints.loadTrainingState(opt2, dir)).isEqualTo(7);
      assertThat(opt2.stepCount()).isEqualTo(1);
      assertThat(opt2.firstMoments().get("transformer.wte.weight").toArray())
          .containsExactly(opt.firstMoments().get("transformer.wte.weight").toArray());
    }
  }

  @Test
  void loadsHuggingFaceKeysWithoutTransformerPrefixAndRejectsWrongShapes() throws Exception {
    try (CpuBackend backend = new CpuBackend(1)) {
      Model model = Model.create(backend, ModelConfig.gpt(1, 8, 2, 6, 10, 0f), 5);
      Checkpoints.exportModel(model, dir);
      Map<String, Tensor> stripped = new LinkedHashMap<>();
      for (Parameter p : model.parameters()) {
        stripped.put(p.name().replaceFirst("^transformer\\.", ""), p.value());
      }
      stripped.put("lm_head.weight", model.parameterMap().get("transformer.wte.weight").value());
      Safetensors.write(dir.resolve("model.safetensors"), stripped, Map.of());
      Model loaded = Checkpoints.loadModel(backend, dir);
      assertThat(loaded.parameterMap().get("transformer.h.0.mlp.c_fc.weight").value().toArray())
          .containsExactly(
              model.parameterMap().get("transformer.h.0.mlp.c_fc.weight").value().toArray());

      Model mlp = Model.create(backend, ModelConfig.mlp(4, List.of(3), 2, 0f), 1);
      Path other = dir.resolve("mlp");
      Checkpoints.exportModel(mlp, other);
      Model wrong = Model.create(backend, ModelConfig.mlp(5, List.of(3), 2, 0f), 1);
      assertThatThrownBy(() -> Checkpoints.loadWeights(wrong, other))
          .hasMessageContaining("layers.0.weight has shape [4, 3]");
      assertThatThrownBy(() -> Checkpoints.loadModel(backend, dir.resolve("nowhere")))
          .hasMessageContaining("config.json");
    }
  }
}
