package io.flotilla.scheduler.planner;

/**
 * A network path between two workers, as measured over the data plane.
 *
 * @param latencySeconds one-way latency
 * @param bytesPerSecond sustained throughput
 */
public record Link(double latencySeconds, double bytesPerSecond) {

  /** Assumed for pairs never measured: 1 ms and 1 Gbit/s. */
  public static final Link UNMEASURED = new Link(0.001, 125e6);

  public Link {
    if (!(latencySeconds >= 0) || Double.isInfinite(latencySeconds)) {
      throw new IllegalArgumentException("latencySeconds must be finite and >= 0");
    }
    if (!(bytesPerSecond > 0) || Double.isInfinite(bytesPerSecond)) {
      throw new IllegalArgumentException("bytesPerSecond must be finite and > 0");
    }
  }

  /** Seconds to move {@code bytes} over this link. */
  public double transferSeconds(double bytes) {
    return latencySeconds + bytes / bytesPerSecond;
  }
}
