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

  private static boolean required() {
    return Boolean.getBoolean("flotilla.gpu.required");
  }

  private static void skipOrFail(boolean ok, String why) {
    if (ok) {
      return;
    }
    if (required()) {
      throw new AssertionError("a GPU is required (flotilla.gpu.required=true) but " + why);
    }
    System.out.println("skipped: no GPU (" + why + ")");
    assumeTrue(false, "skipped: no GPU (" + why + ")");
  }

  /** Skips the calling test unless the CUDA backend can start. */
  public static CudaDeviceInfo assumeGpu() {
    CudaProbe.Result r = CudaProbe.probeOnce();
    skipOrFail(r.available(), r.reason());
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
    skipOrFail(nvrtcFailure == null, "NVRTC library not loadable: " + nvrtcFailure);
  }
}
