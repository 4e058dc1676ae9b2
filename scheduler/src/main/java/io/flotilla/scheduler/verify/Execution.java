package io.flotilla.scheduler.verify;

import java.util.Objects;

/**
 * What one worker reported for one execution of a task.
 *
 * <p>All of it comes from an untrusted worker except {@code trusted}, which the scheduler sets for
 * tie-breaker executions it placed on a worker it trusts. The verifier never throws on bad values
 * here: a malformed digest or a tensor with NaN or infinities makes that execution dissent.
 *
 * @param workerId the worker that ran it
 * @param determinismClass workers of one class (same backend, build and platform) produce
 *     bit-identical results for the same inputs, so their digests must match exactly; e.g. {@code
 *     cpu-netlib-java21-amd64}
 * @param digest SHA-256 (64 hex characters) of the result tensor, as the worker reported it
 * @param tensor the result itself, or null when only the digest was sent; needed to compare
 *     executions of different determinism classes within the job's tolerance. Not copied: callers
 *     must not change it while the verifier runs.
 * @param trusted whether the scheduler trusts this worker's result outright (tie-breaker)
 */
public record Execution(
    String workerId, String determinismClass, String digest, float[] tensor, boolean trusted) {

  public Execution {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(determinismClass, "determinismClass");
    digest = digest == null ? "" : digest;
  }

  /** An untrusted execution that reported only a digest. */
  public static Execution ofDigest(String workerId, String determinismClass, String digest) {
    return new Execution(workerId, determinismClass, digest, null, false);
  }

  /** An untrusted execution that reported its digest and its tensor. */
  public static Execution ofTensor(
      String workerId, String determinismClass, String digest, float[] tensor) {
    return new Execution(workerId, determinismClass, digest, tensor, false);
  }

  /** The same execution, marked as coming from a trusted worker. */
  public Execution asTrusted() {
    return new Execution(workerId, determinismClass, digest, tensor, true);
  }

  /** Whether the digest is a well-formed SHA-256 in hex. */
  public boolean hasWellFormedDigest() {
    // Checked for every result of every step: a loop, not a regular expression compiled each time.
    if (digest.length() != 64) {
      return false;
    }
    for (int i = 0; i < 64; i++) {
      char c = digest.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return false;
      }
    }
    return true;
  }

  /** Whether a tensor came with the report. */
  public boolean hasTensor() {
    return tensor != null;
  }

  @Override
  public String toString() {
    return "Execution["
        + workerId
        + ", "
        + determinismClass
        + ", "
        + digest
        + (tensor == null ? "" : ", " + tensor.length + " floats")
        + (trusted ? ", trusted" : "")
        + "]";
  }
}
