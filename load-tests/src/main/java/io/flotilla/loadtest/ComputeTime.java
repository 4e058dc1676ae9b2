package io.flotilla.loadtest;

import java.util.SplittableRandom;

/**
 * How long a simulated worker computes one step: a log-normal distribution given by its median and
 * the standard deviation {@code sigma} of its logarithm ({@code sigma = 0} is a fixed duration).
 * Volunteer machines differ by a factor, not by an offset, which is what a log-normal models.
 *
 * @param medianMillis the median step time in milliseconds (0: reply at once)
 * @param sigma the spread of the logarithm; 0.5 puts 95% of steps within a factor of 2.7
 */
public record ComputeTime(double medianMillis, double sigma) {

  public ComputeTime {
    if (!(medianMillis >= 0) || Double.isInfinite(medianMillis)) {
      throw new IllegalArgumentException("compute median must be >= 0 ms, was " + medianMillis);
    }
    if (!(sigma >= 0) || sigma > 5) {
      throw new IllegalArgumentException("compute sigma must be in 0..5, was " + sigma);
    }
  }

  /** Draws one step's duration in nanoseconds. */
  public long sampleNanos(SplittableRandom random) {
    if (medianMillis == 0) {
      return 0;
    }
    double z = sigma == 0 ? 0 : gaussian(random) * sigma;
    return Math.round(medianMillis * Math.exp(z) * 1e6);
  }

  private static double gaussian(SplittableRandom random) {
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  @Override
  public String toString() {
    return medianMillis + " ms median, sigma " + sigma;
  }
}
