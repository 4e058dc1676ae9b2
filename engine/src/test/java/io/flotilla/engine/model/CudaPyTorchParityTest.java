package io.flotilla.engine.model;

import io.flotilla.engine.backend.cuda.CudaBackend;
import io.flotilla.engine.backend.cuda.GpuAssumptions;
import io.flotilla.engine.backend.cuda.Precision;
import io.flotilla.engine.checkpoint.Safetensors;
import org.junit.jupiter.api.Test;

/**
 * {@link PyTorchParityTest}'s checks (logits, loss, every gradient, 20 AdamW steps against the
 * PyTorch fixtures) on the CUDA backend, per precision with the tolerances of docs/gpu.md. Runs
 * only where a GPU is usable; elsewhere each test is skipped with "skipped: no GPU".
 */
class CudaPyTorchParityTest {
  /** FP32: the CPU backend's tolerance; only the summation order differs. */
  static final double FP32_TOLERANCE = 1e-4;

  /** TF32: products round inputs to a 10-bit mantissa (about 5e-4 relative per element). */
  static final double TF32_TOLERANCE = 2e-2;

  private static void run(String fixture, Precision precision, double tolerance, boolean gpt)
      throws Exception {
    GpuAssumptions.assumeGpu();
    Safetensors.Contents fx = PyTorchParityTest.fixture(fixture);
    try (CudaBackend backend = CudaBackend.create(CudaBackend.Options.defaults(precision))) {
      Model model =
          gpt ? PyTorchParityTest.tinyGpt(backend, fx) : PyTorchParityTest.tinyMlp(backend, fx);
      PyTorchParityTest.check(backend, model, fx, tolerance);
    }
  }

  @Test
  void tinyGptFp32() throws Exception {
    run("gpt-tiny.safetensors", Precision.FP32, FP32_TOLERANCE, true);
  }

  @Test
  void tinyMlpFp32() throws Exception {
    run("mlp-tiny.safetensors", Precision.FP32, FP32_TOLERANCE, false);
  }

  @Test
  void tinyGptTf32() throws Exception {
    run("gpt-tiny.safetensors", Precision.TF32, TF32_TOLERANCE, true);
  }

  @Test
  void tinyMlpTf32() throws Exception {
    run("mlp-tiny.safetensors", Precision.TF32, TF32_TOLERANCE, false);
  }
}
