package io.flotilla.protocol.worker;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * A GPU a worker offers.
 *
 * @param model the device name as the driver reports it, e.g. {@code NVIDIA H100 80GB HBM3}
 * @param memoryBytes total device memory
 * @param measuredTflops single-precision matrix throughput measured by the worker at start
 */
public record GpuInfo(String model, long memoryBytes, double measuredTflops)
    implements ControlMessage {
  public GpuInfo {
    Objects.requireNonNull(model, "model");
    if (memoryBytes < 0) {
      throw new IllegalArgumentException("memoryBytes must be >= 0, was " + memoryBytes);
    }
    if (!(measuredTflops >= 0)) {
      throw new IllegalArgumentException("measuredTflops must be >= 0, was " + measuredTflops);
    }
  }
}
