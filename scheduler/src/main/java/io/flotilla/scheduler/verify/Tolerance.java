package io.flotilla.scheduler.verify;

import io.flotilla.protocol.job.VerificationSpec;

/**
 * Element-wise closeness of two result tensors computed by workers of different determinism
 * classes: {@code a} and {@code b} agree when they have the same length, every element is finite,
 * and {@code |a[i] - b[i]| <= absolute + relative * max(|a[i]|, |b[i]|)} for every {@code i}. The
 * test is symmetric, unlike numpy's {@code allclose}.
 *
 * @param relative the job's {@code verification.tolerance}
 * @param absolute the job's {@code verification.absolute_tolerance}
 */
public record Tolerance(double relative, double absolute) {

  public Tolerance {
    if (!(relative >= 0 && relative <= 1) || !(absolute >= 0 && absolute <= 1)) {
      throw new IllegalArgumentException(
          "tolerances must be in 0..1, were relative " + relative + ", absolute " + absolute);
    }
  }

  /** The tolerance a job spec asks for. */
  public static Tolerance of(VerificationSpec spec) {
    return new Tolerance(spec.tolerance(), spec.absoluteTolerance());
  }

  /** Whether {@code a} and {@code b} agree within this tolerance. */
  public boolean agree(float[] a, float[] b) {
    return firstMismatch(a, b) < 0;
  }

  /**
   * The first index at which {@code a} and {@code b} disagree, {@code -1} when they agree, or
   * {@code Integer.MAX_VALUE} when their lengths differ.
   */
  public int firstMismatch(float[] a, float[] b) {
    if (a.length != b.length) {
      return Integer.MAX_VALUE;
    }
    for (int i = 0; i < a.length; i++) {
      double x = a[i];
      double y = b[i];
      if (!Double.isFinite(x)
          || !Double.isFinite(y)
          || Math.abs(x - y) > absolute + relative * Math.max(Math.abs(x), Math.abs(y))) {
        return i;
      }
    }
    return -1;
  }
}
