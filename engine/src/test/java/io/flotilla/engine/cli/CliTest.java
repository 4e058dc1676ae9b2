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

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(ByteArrayOutputStream out, String... args) {
    Object command =
        switch (args[0]) {
          case "model" -> new ModelCommand();
          case "train-local" -> new TrainLocalCommand();
          case "bench-engine" -> new BenchEngineCommand();
          default -> throw new IllegalArgumentException(args[0]);
        };
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    System.setOut(new PrintStream(out, true));
    System.setErr(new PrintStream(err, true));
    try {
      return new CommandLine(command).execute(java.util.Arrays.copyOfRange(args, 1, args.length));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
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
    Files.writeString(
        job,
        """
        name: bad
        model: {type: gpt, layers: 1, width: 30, heads: 4, context: 12}
        dataset: {type: addition}
        training: {steps: 5, global_batch: 4, optimzer: {lr: 1}}
        """);
    assertThat(run(out, "train-local", job.toString())).isEqualTo(2);
    assertThat(err.toString())
        .contains("model.heads: must divide model.width")
        .contains("line 4: training.optimzer: unknown field");
    assertThat(run(out, "bench-engine", "--configs", "huge")).isEqualTo(2);
  }

  @Test
  void benchEngineChoosesItsBackendWithOneLine() {
    io.flotilla.engine.backend.cuda.CudaProbe.Result probe =
        io.flotilla.engine.backend.cuda.CudaProbe.probeOnce();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(
            run(
                out,
                "bench-engine",
                "--backend",
                "auto",
                "--sgemm-sizes",
                "32",
                "--configs",
                "none",
                "--runs",
                "1",
                "--threads",
                "1"))
        .isEqualTo(0);
    String[] lines = out.toString().split("\n");
    assertThat(lines[0])
        .startsWith(probe.available() ? "backend: cuda (auto" : "backend: cpu (auto");
    assertThat(lines[1]).startsWith("determinism class " + (probe.available() ? "cuda-" : "cpu-"));
    assertThat(out.toString()).contains("sgemm 32^3: ");
    assertThat(out.toString() + err).doesNotContain("\tat ").doesNotContain("Exception");
  }

  @Test
  void benchEngineOnCudaWithoutAGpuIsAUsageError() {
    io.flotilla.engine.backend.cuda.CudaProbe.Result probe =
        io.flotilla.engine.backend.cuda.CudaProbe.probeOnce();
    org.junit.jupiter.api.Assumptions.assumeFalse(probe.available(), "a GPU is usable here");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(run(out, "bench-engine", "--backend", "cuda", "--configs", "none")).isEqualTo(2);
    assertThat(err.toString().strip())
        .isEqualTo("error: backend cuda requested but CUDA is not usable: " + probe.reason());
    assertThat(out.toString()).isEmpty();
    assertThat(run(out, "bench-engine", "--backend", "rocm")).isEqualTo(2);
    assertThat(err.toString()).contains("unknown backend 'rocm'; allowed: cpu, cuda, auto");
    assertThat(run(out, "bench-engine", "--precision", "fp8")).isEqualTo(2);
    assertThat(err.toString()).contains("allowed: fp32, tf32");
  }
}
