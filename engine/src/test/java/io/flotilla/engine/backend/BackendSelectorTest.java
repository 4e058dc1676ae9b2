package io.flotilla.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.backend.cuda.CudaDeviceInfo;
import io.flotilla.engine.backend.cuda.CudaProbe;
import io.flotilla.engine.backend.cuda.Precision;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendSelectorTest {
  private final List<String> lines = new ArrayList<>();

  private static final CudaProbe.Result GPU =
      new CudaProbe.Result(
          true, "TestGPU", new CudaDeviceInfo(0, "TestGPU", 1L << 34, 9, 0, 132, 12040));

  private BackendSelector selector(CudaProbe.Result probe, RuntimeException cudaStartFailure) {
    return new BackendSelector(
        () -> probe,
        p -> {
          throw cudaStartFailure;
        },
        CpuBackend::new,
        lines::add);
  }

  private static void assertOneLineWithoutStackTrace(List<String> lines) {
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .doesNotContain("\n")
        .doesNotContain("\tat ")
        .doesNotContain("Exception");
  }

  /** The real probe on this machine: whichever way it answers, selection follows it. */
  @Test
  void autoOnThisMachineFollowsTheRealProbe() {
    BackendSelector real =
        new BackendSelector(
            CudaProbe::probeOnce,
            p ->
                io.flotilla.engine.backend.cuda.CudaBackend.create(
                    io.flotilla.engine.backend.cuda.CudaBackend.Options.defaults(p)),
            CpuBackend::new,
            lines::add);
    CudaProbe.Result probe = CudaProbe.probeOnce();
    BackendSelector.Selection s = real.select(BackendMode.AUTO, 1, Precision.FP32);
    try {
      assertOneLineWithoutStackTrace(lines);
      if (probe.available()) {
        assertThat(s.kind()).isEqualTo("cuda");
        assertThat(s.gpu()).isEqualTo(probe.device());
      } else {
        assertThat(s.kind()).isEqualTo("cpu");
        assertThat(s.backend()).isInstanceOf(CpuBackend.class);
        assertThat(lines.get(0)).startsWith("backend: cpu (auto: ").contains(probe.reason());
        assertThat(probe.reason()).doesNotContain("\n");
        assertThat(s.gpu()).isNull();
      }
    } finally {
      s.backend().close();
    }
  }

  @Test
  void cudaRequestedOnThisMachineWithoutCudaIsAClearError() {
    CudaProbe.Result probe = CudaProbe.probeOnce();
    org.junit.jupiter.api.Assumptions.assumeFalse(
        probe.available(), "this machine has a usable GPU");
    assertThatThrownBy(() -> BackendSelector.standard().select(BackendMode.CUDA, 1, Precision.FP32))
        .isInstanceOf(BackendSelector.BackendUnavailableException.class)
        .hasMessageStartingWith("backend cuda requested but CUDA is not usable: ")
        .hasMessageContaining(probe.reason());
  }

  @Test
  void failureLinesNameTheMissingLibraryOrTheFirstLine() {
    assertThat(
            CudaProbe.oneLine(
                new UnsatisfiedLinkError(
                    "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                        + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so:"
                        + " libcuda.so.1: cannot open shared object file: No such file")))
        .isEqualTo("libcuda.so.1 not found");
    assertThat(CudaProbe.oneLine(new NoClassDefFoundError("Could not initialize class X\nmore")))
        .isEqualTo("NoClassDefFoundError: Could not initialize class X");
    assertThat(CudaProbe.oneLine(new IllegalStateException("x".repeat(500)))).hasSize(200);
  }

  @Test
  void probeIsCached() {
    assertThat(CudaProbe.probeOnce()).isSameAs(CudaProbe.probeOnce());
  }

  @Test
  void cpuRequested() {
    BackendSelector.Selection s =
        selector(GPU, new IllegalStateException("unused"))
            .select(BackendMode.CPU, 1, Precision.FP32);
    try {
      assertThat(s.kind()).isEqualTo("cpu");
      assertThat(lines)
          .containsExactly("backend: cpu (requested; " + s.backend().description() + ")");
    } finally {
      s.backend().close();
    }
  }

  @Test
  void autoFallsBackWhenTheCudaBackendFailsToStartEvenWithAnError() {
    BackendSelector sel =
        new BackendSelector(
            () -> GPU,
            p -> {
              throw new UnsatisfiedLinkError(
                  "libcublas.so.12: cannot open shared object file\nmore");
            },
            CpuBackend::new,
            lines::add);
    BackendSelector.Selection s = sel.select(BackendMode.AUTO, 1, Precision.TF32);
    try {
      assertThat(s.kind()).isEqualTo("cpu");
      assertThat(lines.get(0))
          .startsWith(
              "backend: cpu (auto: CUDA backend failed to start: libcublas.so.12 not found; cpu(");
      assertThat(lines).hasSize(1);
      assertThat(lines.get(0)).doesNotContain("\n");
    } finally {
      s.backend().close();
    }
  }

  @Test
  void cudaRequestedButFailingToStartIsAClearError() {
    assertThatThrownBy(
            () ->
                selector(GPU, new IllegalStateException("NVRTC could not compile\nlog"))
                    .select(BackendMode.CUDA, 1, Precision.FP32))
        .isInstanceOf(BackendSelector.BackendUnavailableException.class)
        .hasMessage(
            "backend cuda requested but it failed to start: IllegalStateException: NVRTC could"
                + " not compile");
    assertThat(lines).isEmpty();
  }

  @Test
  void cudaRequestedWithoutGpu() {
    assertThatThrownBy(
            () ->
                selector(
                        new CudaProbe.Result(
                            false, "no CUDA device: the driver reports none", null),
                        null)
                    .select(BackendMode.CUDA, 1, Precision.FP32))
        .hasMessage(
            "backend cuda requested but CUDA is not usable: no CUDA device: the driver reports"
                + " none");
  }

  @Test
  void modesParseWithAClearError() {
    assertThat(BackendMode.parse("CUDA")).isEqualTo(BackendMode.CUDA);
    assertThat(BackendMode.parse(" auto ")).isEqualTo(BackendMode.AUTO);
    assertThatThrownBy(() -> BackendMode.parse("rocm"))
        .hasMessage("unknown backend 'rocm'; allowed: cpu, cuda, auto");
    assertThatThrownBy(() -> Precision.parse("bf16"))
        .hasMessage("unknown precision 'bf16'; allowed: fp32, tf32");
  }

  @Test
  void determinismClassesNameWhatReproducesBits() {
    try (CpuBackend cpu = new CpuBackend(1)) {
      assertThat(cpu.determinismClass())
          .startsWith("cpu-")
          .endsWith("-java" + Runtime.version().feature());
      if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/cpuinfo"))) {
        assertThat(cpu.determinismClass()).matches("cpu-\\w+-\\w+-f\\d+m\\d+-java\\d+");
      }
    }
    assertThat(
            io.flotilla.engine.backend.cuda.CudaBackend.determinismClass(
                GPU.device(), 120603, Precision.TF32))
        .isEqualTo("cuda-sm90-132sm-cublas120603-tf32");
  }
}
