package io.flotilla.scheduler.verify;

import io.flotilla.protocol.task.StepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Compares one data-parallel replica's traced step with its shadows: the same step of the same
 * replica, from the same checkpoint, run by other workers. A pure function.
 *
 * <p>The work of a replica's pipeline flows in a fixed order — stage 0 forward to stage P-1, then
 * backward from P-1 to 0, then (with one replica, where the shadows run the whole step) every
 * stage's update — and a wrong result spoils everything after it. So the check walks these
 * positions in order and lets the {@link Verifier} judge each one on its digest: where every run
 * agrees it goes on; the first position where they differ is the only one it can judge (its inputs
 * agreed), and the dissenters there are the culprits. Nothing after it is judged: honest stages
 * downstream of a lie compute on wrong inputs.
 */
public final class ShadowCheck {
  private ShadowCheck() {}

  /** What a stage produced that is compared. */
  public enum Part {
    /** The activations it sent forward (the last stage: its losses). */
    FORWARD,
    /** The gradients it sent backward and its local gradient. */
    BACKWARD,
    /** Its parameters after the update (compared only when the shadows update too). */
    UPDATE
  }

  /**
   * One judged position.
   *
   * @param stage the stage
   * @param part what was compared
   * @param executions one per run, the replica's own run first
   * @param verdict the verifier's verdict on them
   */
  public record Judged(int stage, Part part, List<Execution> executions, Verdict verdict) {
    public Judged {
      executions = List.copyOf(executions);
    }

    /** Whether every run agreed here. */
    public boolean unanimous() {
      return verdict instanceof Verdict.Accepted a && a.dissenting().isEmpty();
    }
  }

  /**
   * The outcome: the positions judged, in order; the last is the first disagreement, if any.
   *
   * @param judged every judged position
   */
  public record Result(List<Judged> judged) {
    public Result {
      judged = List.copyOf(judged);
    }

    /** The first position where the runs differ, or null when they all agree everywhere. */
    public Judged divergence() {
      if (judged.isEmpty()) {
        return null;
      }
      Judged last = judged.get(judged.size() - 1);
      return last.unanimous() ? null : last;
    }
  }

  /**
   * Compares the runs of one replica. {@code runs.get(0)} is the replica's own run, the others its
   * shadows; each run holds one traced report per stage, in stage order.
   *
   * @param compareUpdates whether the shadows ran the update too (one replica): the parameter
   *     digests are then compared after the backward passes An untraced report's empty digests are
   *     malformed: they agree with nothing, so a worker that does not trace a step it was asked to
   *     trace dissents.
   * @throws IllegalArgumentException when a run has not one report per stage, in stage order
   */
  public static Result compare(
      Verifier verifier, int stages, boolean compareUpdates, List<List<StepReport>> runs) {
    Objects.requireNonNull(verifier, "verifier");
    if (runs.size() < 2) {
      throw new IllegalArgumentException("a shadow check needs the run and a shadow");
    }
    for (List<StepReport> run : runs) {
      if (run.size() != stages) {
        throw new IllegalArgumentException(
            "every run needs one report per stage (" + stages + "), got " + run.size());
      }
      for (int k = 0; k < stages; k++) {
        if (run.get(k).stage() != k) {
          throw new IllegalArgumentException(
              "report " + k + " of a run is of stage " + run.get(k).stage());
        }
      }
    }
    List<Judged> judged = new ArrayList<>();
    for (int k = 0; k < stages; k++) {
      if (!judge(verifier, runs, k, Part.FORWARD, judged)) {
        return new Result(judged);
      }
    }
    for (int k = stages - 1; k >= 0; k--) {
      if (!judge(verifier, runs, k, Part.BACKWARD, judged)) {
        return new Result(judged);
      }
    }
    if (compareUpdates) {
      for (int k = 0; k < stages; k++) {
        if (!judge(verifier, runs, k, Part.UPDATE, judged)) {
          return new Result(judged);
        }
      }
    }
    return new Result(judged);
  }

  private static boolean judge(
      Verifier verifier, List<List<StepReport>> runs, int stage, Part part, List<Judged> judged) {
    List<Execution> executions = new ArrayList<>();
    for (List<StepReport> run : runs) {
      StepReport r = run.get(stage);
      String digest =
          switch (part) {
            case FORWARD -> r.forwardDigest();
            case BACKWARD -> r.backwardDigest();
            case UPDATE -> r.parameterDigest();
          };
      executions.add(Execution.ofDigest(r.workerId(), r.determinismClass(), digest));
    }
    Judged j = new Judged(stage, part, executions, verifier.verify(executions));
    judged.add(j);
    return j.unanimous();
  }
}
