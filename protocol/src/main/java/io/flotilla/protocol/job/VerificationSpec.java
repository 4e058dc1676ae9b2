package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * How results from untrusted workers are checked.
 *
 * @param redundancy none, fixed or adaptive
 * @param factor r, workers that compute each task: 1 for none, 2..5 for fixed, the maximum an
 *     unproven worker gets (2) for adaptive
 * @param tolerance largest relative difference accepted between results of workers in different
 *     determinism classes
 * @param spotCheckRate share of unreplicated tasks re-executed at random, in [0, 1]
 */
public record VerificationSpec(
    RedundancyMode redundancy, int factor, double tolerance, double spotCheckRate)
    implements ControlMessage {
  public VerificationSpec {
    Objects.requireNonNull(redundancy, "redundancy");
  }

  /** Workers per task the planner reserves: r for fixed, 1 otherwise (adaptive adds on demand). */
  public int plannedFactor() {
    return redundancy == RedundancyMode.FIXED ? factor : 1;
  }
}
