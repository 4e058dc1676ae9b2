package io.flotilla.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KernelSourcesTest {

  @Test
  void everyLaunchedKernelIsDefinedWithTheParametersTheBackendPasses() {
    Map<String, String> parsed = KernelSources.parsedSignatures(KernelSources.source());
    assertThat(parsed).isEqualTo(KernelSources.SIGNATURES);
    assertThat(KernelSources.definedKernels(KernelSources.source()))
        .doesNotHaveDuplicates()
        .hasSize(KernelSources.SIGNATURES.size());
  }

  @Test
  void signatureParserReadsEachParameterKind() {
    String src =
        "extern \"C\" __global__ void k(const float* a, float *b, int n,\n"
            + "    long long m, unsigned long long s, float f) {}\n"
            + "__device__ float helper(float x) { return x; }\n";
    assertThat(KernelSources.parsedSignatures(src)).containsExactly(Map.entry("k", "PPILLF"));
    assertThatThrownBy(
            () -> KernelSources.parsedSignatures("extern \"C\" __global__ void k(double d) {}"))
        .hasMessageContaining("unsupported parameter type");
  }

  @Test
  void sourceNeedsNoHeadersThatNvrtcLacks() {
    String src = KernelSources.source();
    assertThat(src).doesNotContain("#include").doesNotContain("INFINITY;");
  }

  @Test
  void compileOptionsTargetTheDeviceArchitecture() {
    assertThat(KernelSources.compileOptions(9, 0)).contains("--gpu-architecture=compute_90");
    assertThat(KernelSources.compileOptions(8, 6)).contains("--gpu-architecture=compute_86");
    assertThat(KernelSources.compileOptions(8, 0)).doesNotContain("--use_fast_math");
    assertThatThrownBy(() -> KernelSources.compileOptions(3, 5))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Needs only the NVRTC library (CUDA toolkit libraries), not a GPU. */
  @Test
  void kernelsCompileWithNvrtcForEverySupportedArchitecture() {
    GpuAssumptions.assumeNvrtc();
    for (int[] cc : new int[][] {{7, 0}, {7, 5}, {8, 0}, {8, 6}, {8, 9}, {9, 0}}) {
      String ptx = CudaBackend.compileToPtx(cc[0], cc[1]);
      for (String name : KernelSources.SIGNATURES.keySet()) {
        assertThat(ptx).as("PTX for compute_%d%d", cc[0], cc[1]).contains(".entry " + name + "(");
      }
    }
  }
}
