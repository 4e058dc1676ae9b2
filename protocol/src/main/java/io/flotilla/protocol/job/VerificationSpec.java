package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * How results from untrusted workers are checked.
 *
 * @param redundancy none, fixed or adaptive
 * @param factor r, workers that compute each task: 1 for none, 2..5 for fixed, the maximum an
 *     unproven worker gets (2) for adaptive
 * @param tolerance largest relative difference accepted, element by element, between results of
 *     workers in different determinism classes
 * @param spotCheckRate share of unreplicated tasks re-executed at random, in [0, 1]
 * @param absoluteTolerance largest absolute difference accepted on top of the relative one, so that
 *     elements near zero compare sensibly: {@code |a - b| <= absoluteTolerance + tolerance *
 *     max(|a|, |b|)}
 */
public record VerificationSpec(
    RedundancyMode redundancy,
    int factor,
    double tolerance,
    double spotCheckRate,
    double absoluteTolerance)
    implements ControlMessage {

  /** The default of {@code verification.absolute_tolerance}. */
  public static final double DEFAULT_ABSOLUTE_TOLERANCE = 1e-6;

  public VerificationSpec {
    Objects.requireNonNull(redundancy, "redundancy");
    checkTolerance("tolerance", tolerance);
    checkTolerance("absolute_tolerance", absoluteTolerance);
  }

  /** A spec with the default absolute tolerance. */
  public VerificationSpec(
      RedundancyMode redundancy, int factor, double tolerance, double spotCheckRate) {
    this(redundancy, factor, tolerance, spotCheckRate, DEFAULT_ABSOLUTE_TOLERANCE);
  }

  private static void checkTolerance(String field, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException(
          "verification." + field + " must be a number in 0..1, was " + value);
    }
  }

  /** Workers per task the planner reserves: r for fixed, 1 otherwise (adaptive adds on demand). */
  public int plannedFactor() {
    return redundancy == RedundancyMode.FIXED ? factor : 1;
  }
}
