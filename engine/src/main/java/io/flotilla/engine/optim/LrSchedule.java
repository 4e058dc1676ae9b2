package io.flotilla.engine.optim;

/**
 * Linear warm-up to the peak rate over {@code warmupSteps}, then cosine decay to {@code minLr} at
 * {@code totalSteps}; {@code minLr} afterwards.
 *
 * @param maxLr peak learning rate
 * @param minLr final learning rate
 * @param warmupSteps steps of linear warm-up (0 = none)
 * @param totalSteps step at which the cosine reaches {@code minLr}
 */
public record LrSchedule(float maxLr, float minLr, int warmupSteps, int totalSteps) {

  /** Validates the fields. */
  public LrSchedule {
    if (warmupSteps < 0 || totalSteps < 1 || minLr < 0 || minLr > maxLr) {
      throw new IllegalArgumentException(
          "schedule needs warmup_steps >= 0, steps >= 1 and 0 <= min_lr <= lr; got warmup "
              + warmupSteps
              + ", steps "
              + totalSteps
              + ", min_lr "
              + minLr
              + ", lr "
              + maxLr);
    }
  }

  /** Learning rate for 0-based {@code step}. */
  public float lr(int step) {
    if (step < warmupSteps) {
      return maxLr * (step + 1) / warmupSteps;
    }
    if (step >= totalSteps) {
      return minLr;
    }
    int decaySteps = Math.max(1, totalSteps - warmupSteps);
    double progress = (double) (step - warmupSteps) / decaySteps;
    double coeff = 0.5 * (1 + Math.cos(Math.PI * progress));
    return (float) (minLr + coeff * (maxLr - minLr));
  }
}
