package io.flotilla.worker.fault;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code flotilla.worker.fault} settings, read once.
 *
 * @param mode how the worker misbehaves; {@link FaultMode#NONE} for a correct worker
 * @param rate probability that one task's results are corrupted, in (0, 1]
 * @param seed seed of the fault draws and of the noise
 * @param noiseStddev standard deviation of {@code noise}, relative to the result's RMS
 * @param scaleFactor factor of {@code scale}
 * @param delay how long {@code delay} holds each result
 * @param capabilityInflation factor by which {@code lie-capabilities} inflates GFLOP/s and memory
 * @param target what the modes that change values corrupt: parameters or local gradients
 */
public record FaultSettings(
    FaultMode mode,
    double rate,
    long seed,
    double noiseStddev,
    double scaleFactor,
    Duration delay,
    double capabilityInflation,
    FaultTarget target) {

  public FaultSettings {
    java.util.Objects.requireNonNull(target, "target");
    if (!(rate > 0 && rate <= 1)) {
      throw new IllegalArgumentException(
          "flotilla.worker.fault.rate must be > 0 and <= 1, was " + rate);
    }
    if (!(noiseStddev > 0) || Double.isInfinite(noiseStddev)) {
      throw new IllegalArgumentException(
          "flotilla.worker.fault.noise-stddev must be finite and > 0, was " + noiseStddev);
    }
    if (!Double.isFinite(scaleFactor) || scaleFactor == 1.0) {
      throw new IllegalArgumentException(
          "flotilla.worker.fault.scale-factor must be finite and not 1, was " + scaleFactor);
    }
    if (delay.isNegative() || delay.isZero()) {
      throw new IllegalArgumentException("flotilla.worker.fault.delay must be > 0, was " + delay);
    }
    if (!(capabilityInflation > 1) || Double.isInfinite(capabilityInflation)) {
      throw new IllegalArgumentException(
          "flotilla.worker.fault.capability-inflation must be finite and > 1, was "
              + capabilityInflation);
    }
  }

  /** Settings of a correct worker. */
  public static FaultSettings none() {
    return new FaultSettings(
        FaultMode.NONE, 1.0, 0, 0.1, 10, Duration.ofSeconds(5), 8, FaultTarget.PARAMETERS);
  }

  /** The same settings with another mode. */
  public FaultSettings withMode(FaultMode other) {
    return new FaultSettings(
        other, rate, seed, noiseStddev, scaleFactor, delay, capabilityInflation, target);
  }

  /** The same settings with another rate. */
  public FaultSettings withRate(double other) {
    return new FaultSettings(
        mode, other, seed, noiseStddev, scaleFactor, delay, capabilityInflation, target);
  }

  /** The same settings with another target. */
  public FaultSettings withTarget(FaultTarget other) {
    return new FaultSettings(
        mode, rate, seed, noiseStddev, scaleFactor, delay, capabilityInflation, other);
  }

  /** Reads the settings from the root config. */
  public static FaultSettings create(Config root) {
    Config c = root.getConfig("flotilla.worker.fault");
    return new FaultSettings(
        FaultMode.parse(c.getString("mode")),
        c.getDouble("rate"),
        c.getLong("seed"),
        c.getDouble("noise-stddev"),
        c.getDouble("scale-factor"),
        c.getDuration("delay"),
        c.getDouble("capability-inflation"),
        FaultTarget.parse(c.getString("target")));
  }
}
