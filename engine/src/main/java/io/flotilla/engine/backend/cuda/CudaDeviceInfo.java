package io.flotilla.engine.backend.cuda;

/**
 * A CUDA device as the driver describes it.
 *
 * @param index device ordinal
 * @param name device name, e.g. {@code NVIDIA H100 80GB HBM3}
 * @param totalMemoryBytes total device memory
 * @param computeMajor compute capability, major part
 * @param computeMinor compute capability, minor part
 * @param multiprocessors streaming multiprocessors
 * @param driverVersion CUDA driver API version, e.g. 12040 for 12.4
 */
public record CudaDeviceInfo(
    int index,
    String name,
    long totalMemoryBytes,
    int computeMajor,
    int computeMinor,
    int multiprocessors,
    int driverVersion) {

  /** {@code sm90} for compute capability 9.0. */
  public String smName() {
    return "sm" + computeMajor + computeMinor;
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "%s (%s, %d SMs, %.1f GiB, driver %d.%d)",
        name,
        smName(),
        multiprocessors,
        totalMemoryBytes / (double) (1L << 30),
        driverVersion / 1000,
        driverVersion % 1000 / 10);
  }
}
