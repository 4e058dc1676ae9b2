package io.flotilla.engine.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jcuda.nvrtc.JNvrtc;

/**
 * Skips GPU tests where no GPU is usable, with the message {@code skipped: no GPU} (and the probe's
 * reason), printed as well so a console run shows why.
 */
public final class GpuAssumptions {
  private static String nvrtcFailure;
  private static boolean nvrtcProbed;

  private GpuAssumptions() {}

  /** Skips the calling test unless the CUDA backend can start. */
  public static CudaDeviceInfo assumeGpu() {
    CudaProbe.Result r = CudaProbe.probeOnce();
    if (!r.available()) {
      System.out.println("skipped: no GPU (" + r.reason() + ")");
    }
    assumeTrue(r.available(), () -> "skipped: no GPU (" + r.reason() + ")");
    return r.device();
  }

  /** Skips the calling test unless the NVRTC library loads (it needs no GPU, only CUDA libs). */
  public static void assumeNvrtc() {
    synchronized (GpuAssumptions.class) {
      if (!nvrtcProbed) {
        nvrtcProbed = true;
        try {
          JNvrtc.nvrtcVersion(new int[1], new int[1]);
        } catch (Throwable t) {
          nvrtcFailure = CudaProbe.oneLine(t);
        }
      }
    }
    String failure = nvrtcFailure;
    if (failure != null) {
      System.out.println("skipped: no GPU (NVRTC library not loadable: " + failure + ")");
    }
    assumeTrue(
        failure == null, () -> "skipped: no GPU (NVRTC library not loadable: " + failure + ")");
  }
}
