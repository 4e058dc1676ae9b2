package io.flotilla.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.checkpoint.Checkpoints;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.model.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
  @TempDir Path dir;

  private static int run(ByteArrayOutputStream out, String... args) {
    PrintStream old = System.out;
    System.setOut(new PrintStream(out, true));
    try {
      return new CommandLine(new EngineCli()).execute(args);
    } finally {
      System.setOut(old);
    }
  }

  @Test
  void modelEvalPrintsJsonAndExportWritesHuggingFaceFiles() throws Exception {
    try (CpuBackend backend = new CpuBackend(1)) {
      Checkpoints.exportModel(
          Model.create(backend, ModelConfig.gpt(1, 8, 2, 11, 12, 0f), 1), dir.resolve("ck"));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        run(
            out,
            "model",
            "eval",
            "--checkpoint",
            dir.resolve("ck").toString(),
            "--data",
            "addition:3",
            "--samples",
            "20",
            "--json");
    assertThat(code).isZero();
    assertThat(out.toString())
        .contains("\"loss\":")
        .contains("\"accuracy\":")
        .contains("\"samples\":20");
    code =
        run(
            out,
            "model",
            "export",
            "--checkpoint",
            dir.resolve("ck").toString(),
            "--out",
            dir.resolve("hf").toString());
    assertThat(code).isZero();
    assertThat(Files.exists(dir.resolve("hf/config.json"))).isTrue();
    assertThat(Files.exists(dir.resolve("hf/model.safetensors"))).isTrue();
  }

  @Test
  void badInputExitsWithTwo() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(run(out, "model", "eval", "--checkpoint", dir.toString(), "--data", "addition"))
        .isEqualTo(2);
    Path job = dir.resolve("job.yaml");
    Files.writeString(job, "model: {type: rnn}\n");
    assertThat(run(out, "train-local", job.toString())).isEqualTo(2);
    assertThat(run(out, "bench", "engine", "--configs", "huge")).isEqualTo(2);
  }
}
