package io.flotilla.scheduler.verify;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides which result of a redundantly executed task may enter the model.
 *
 * <p>Two executions <em>agree</em> when
 *
 * <ul>
 *   <li>they share a determinism class and report the same digest (bit-exact: inside a class any
 *       difference is a wrong result, however small), or
 *   <li>their classes differ, both sent their tensors, and the tensors agree element by element
 *       within the job's {@link Tolerance}. Without both tensors such executions cannot be compared
 *       and count as not agreeing.
 * </ul>
 *
 * An execution with a malformed digest, or with a tensor holding NaN or infinities, agrees with
 * nothing.
 *
 * <p>Of n executions, a result is {@linkplain Verdict.Accepted accepted} when at least {@code
 * max(2, n / 2 + 1)} executions (a strict majority, never fewer than two) agree with it; the
 * workers that do not agree dissent. When a trusted execution (a tie-breaker) is among them, its
 * result is accepted instead and everyone who disagrees with it dissents; trusted executions that
 * disagree among themselves reject the task. Without a quorum the verdict is {@linkplain
 * Verdict.NeedsTiebreak needs a tie-breaker} while fewer than {@code maxExecutions} ran, else
 * {@linkplain Verdict.Rejected rejected}.
 *
 * <p>Pure and deterministic: the same executions in the same order give the same verdict.
 */
public final class Verifier {

  private final Tolerance tolerance;
  private final int maxExecutions;

  /**
   * Creates a verifier.
   *
   * @param tolerance how close results of different determinism classes must be
   * @param maxExecutions the most executions of one task (initial ones plus tie-breakers), at least
   *     2
   */
  public Verifier(Tolerance tolerance, int maxExecutions) {
    if (maxExecutions < 2) {
      throw new IllegalArgumentException("maxExecutions must be >= 2, was " + maxExecutions);
    }
    this.tolerance = tolerance;
    this.maxExecutions = maxExecutions;
  }

  /** The quorum among {@code n} executions: a strict majority, at least two. */
  public static int quorum(int n) {
    return Math.max(2, n / 2 + 1);
  }

  /**
   * Verifies the executions of one task.
   *
   * @param executions at least one, each from a different worker
   * @throws IllegalArgumentException when there are none or a worker appears twice (the scheduler
   *     must place redundant executions on distinct workers)
   */
  public Verdict verify(List<Execution> executions) {
    if (executions.isEmpty()) {
      throw new IllegalArgumentException("nothing to verify: no executions");
    }
    Set<String> seen = new HashSet<>();
    for (Execution e : executions) {
      if (!seen.add(e.workerId())) {
        throw new IllegalArgumentException(
            "worker "
                + e.workerId()
                + " ran the task twice; executions must be on distinct workers");
      }
    }
    int n = executions.size();
    boolean[] usable = new boolean[n];
    for (int i = 0; i < n; i++) {
      usable[i] = isUsable(executions.get(i));
    }
    boolean[] incomparable = new boolean[1];

    List<Integer> trusted = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (executions.get(i).trusted()) {
        trusted.add(i);
      }
    }
    if (!trusted.isEmpty()) {
      return byTrusted(executions, usable, trusted, incomparable);
    }

    int best = -1;
    List<Integer> bestSupport = List.of();
    for (int i = 0; i < n; i++) {
      if (!usable[i]) {
        continue;
      }
      List<Integer> support = support(executions, usable, i, incomparable);
      if (support.size() > bestSupport.size()) {
        best = i;
        bestSupport = support;
      }
    }
    int quorum = quorum(n);
    if (best >= 0 && bestSupport.size() >= quorum) {
      return accepted(executions, best, bestSupport);
    }
    String reason =
        String.format(
            Locale.ROOT,
            "no quorum: at most %d of %d executions agree, %d needed%s%s",
            bestSupport.size(),
            n,
            quorum,
            unusableNote(executions, usable),
            incomparable[0]
                ? "; results of different determinism classes came without tensors and cannot be"
                    + " compared"
                : "");
    return n < maxExecutions
        ? new Verdict.NeedsTiebreak(reason, workers(executions))
        : new Verdict.Rejected(
            reason + "; " + maxExecutions + " executions allowed", workers(executions));
  }

  private Verdict byTrusted(
      List<Execution> executions, boolean[] usable, List<Integer> trusted, boolean[] incomparable) {
    int first = trusted.get(0);
    if (!usable[first]) {
      return new Verdict.Rejected(
          "the trusted execution by "
              + executions.get(first).workerId()
              + " is malformed (digest or non-finite tensor)",
          workers(executions));
    }
    List<Integer> support = support(executions, usable, first, incomparable);
    for (int t : trusted) {
      if (!support.contains(t)) {
        return new Verdict.Rejected(
            "trusted executions disagree: "
                + executions.get(first).workerId()
                + " and "
                + executions.get(t).workerId(),
            workers(executions));
      }
    }
    return accepted(executions, first, support);
  }

  private static Verdict accepted(List<Execution> executions, int result, List<Integer> support) {
    List<String> agreeing = new ArrayList<>();
    List<String> dissenting = new ArrayList<>();
    for (int i = 0; i < executions.size(); i++) {
      (support.contains(i) ? agreeing : dissenting).add(executions.get(i).workerId());
    }
    return new Verdict.Accepted(executions.get(result), agreeing, dissenting);
  }

  /** Indices of the usable executions that agree with execution {@code i}, {@code i} included. */
  private List<Integer> support(
      List<Execution> executions, boolean[] usable, int i, boolean[] incomparable) {
    List<Integer> support = new ArrayList<>();
    for (int j = 0; j < executions.size(); j++) {
      if (j == i || (usable[j] && agree(executions.get(i), executions.get(j), incomparable))) {
        support.add(j);
      }
    }
    return support;
  }

  private boolean agree(Execution a, Execution b, boolean[] incomparable) {
    if (a.determinismClass().equals(b.determinismClass())) {
      return a.digest().equalsIgnoreCase(b.digest());
    }
    if (!a.hasTensor() || !b.hasTensor()) {
      incomparable[0] = true;
      return false;
    }
    return tolerance.agree(a.tensor(), b.tensor());
  }

  private static boolean isUsable(Execution e) {
    if (!e.hasWellFormedDigest()) {
      return false;
    }
    if (e.hasTensor()) {
      for (float v : e.tensor()) {
        if (!Float.isFinite(v)) {
          return false;
        }
      }
    }
    return true;
  }

  private static String unusableNote(List<Execution> executions, boolean[] usable) {
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < executions.size(); i++) {
      if (!usable[i]) {
        bad.add(executions.get(i).workerId());
      }
    }
    return bad.isEmpty() ? "" : "; malformed results from " + String.join(", ", bad);
  }

  private static List<String> workers(List<Execution> executions) {
    return executions.stream().map(Execution::workerId).toList();
  }
}
