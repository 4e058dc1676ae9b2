package io.flotilla.engine.backend.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.nvrtc.JNvrtc;

/**
 * Finds out once per JVM whether CUDA is usable: the JCuda driver natives and {@code libcuda} load,
 * a device exists, and the cuBLAS and NVRTC libraries load.
 *
 * <p>Without CUDA, JCuda fails with {@link UnsatisfiedLinkError} on the first call and {@link
 * NoClassDefFoundError} on later ones; both are {@link Error}s, so the probe catches {@link
 * Throwable} and caches its answer instead of trying again.
 */
public final class CudaProbe {

  /**
   * The probe's answer.
   *
   * @param available whether the CUDA backend can start
   * @param reason why not (or a description of the device when available), one line
   * @param device device 0, or {@code null} when none
   */
  public record Result(boolean available, String reason, CudaDeviceInfo device) {
    static Result unavailable(String reason) {
      return new Result(false, reason, null);
    }
  }

  private static Result cached;

  private CudaProbe() {}

  /** The cached answer, probing on the first call. */
  public static synchronized Result probeOnce() {
    if (cached == null) {
      cached = probe();
    }
    return cached;
  }

  private static Result probe() {
    CudaDeviceInfo device;
    try {
      int rc = JCudaDriver.cuInit(0);
      if (rc != CUresult.CUDA_SUCCESS) {
        return Result.unavailable("no usable CUDA driver: cuInit failed with " + name(rc));
      }
      int[] count = new int[1];
      rc = JCudaDriver.cuDeviceGetCount(count);
      if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) {
        return Result.unavailable("no CUDA device: the driver reports none");
      }
      device = describe(0);
    } catch (Throwable t) {
      return Result.unavailable("no CUDA driver: " + oneLine(t));
    }
    try {
      JCublas2.initialize();
    } catch (Throwable t) {
      return Result.unavailable("cuBLAS library not loadable: " + oneLine(t));
    }
    try {
      int[] major = new int[1];
      int[] minor = new int[1];
      JNvrtc.nvrtcVersion(major, minor);
    } catch (Throwable t) {
      return Result.unavailable("NVRTC library not loadable: " + oneLine(t));
    }
    return new Result(true, device.toString(), device);
  }

  /** Reads device {@code index}'s properties; needs an initialised driver. */
  static CudaDeviceInfo describe(int index) {
    CUdevice dev = new CUdevice();
    CudaCalls.check(JCudaDriver.cuDeviceGet(dev, index), "cuDeviceGet");
    byte[] nameBytes = new byte[256];
    CudaCalls.check(
        JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, dev), "cuDeviceGetName");
    int len = 0;
    while (len < nameBytes.length && nameBytes[len] != 0) {
      len++;
    }
    long[] mem = new long[1];
    CudaCalls.check(JCudaDriver.cuDeviceTotalMem(mem, dev), "cuDeviceTotalMem");
    int[] v = new int[1];
    CudaCalls.check(
        JCudaDriver.cuDeviceGetAttribute(
            v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
        "cuDeviceGetAttribute");
    int major = v[0];
    CudaCalls.check(
        JCudaDriver.cuDeviceGetAttribute(
            v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev),
        "cuDeviceGetAttribute");
    int minor = v[0];
    CudaCalls.check(
        JCudaDriver.cuDeviceGetAttribute(
            v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev),
        "cuDeviceGetAttribute");
    int sms = v[0];
    CudaCalls.check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
    return new CudaDeviceInfo(
        index,
        new String(nameBytes, 0, len, java.nio.charset.StandardCharsets.UTF_8),
        mem[0],
        major,
        minor,
        sms,
        v[0]);
  }

  private static String name(int rc) {
    try {
      return CUresult.stringFor(rc);
    } catch (Throwable t) {
      return "error " + rc;
    }
  }

  private static final java.util.regex.Pattern MISSING_LIBRARY =
      java.util.regex.Pattern.compile(
          "([\\w.+-]+\\.so(?:\\.\\d+)*): cannot open shared object file");

  /**
   * One line saying why {@code t} happened, at most 200 characters. JCuda's loader errors span many
   * lines and nest the real cause ({@code libcuda.so.1: cannot open shared object file}) deep
   * inside: when a shared library is missing, the line names it ({@code libcuda.so.1 not found});
   * otherwise it is the first line of the message prefixed with the throwable's simple class name.
   */
  public static String oneLine(Throwable t) {
    String full = t.getMessage() == null ? "" : t.getMessage();
    java.util.regex.Matcher m = MISSING_LIBRARY.matcher(full);
    String s;
    if (m.find()) {
      s = m.group(1) + " not found";
    } else {
      String msg = full.strip();
      int nl = msg.indexOf('\n');
      if (nl >= 0) {
        msg = msg.substring(0, nl).strip();
      }
      s = t.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg);
    }
    return s.length() > 200 ? s.substring(0, 197) + "..." : s;
  }
}
