package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * What one stage replica computed in one step. The digests let a verifier compare redundant
 * executions without receiving tensors: replicas of a stage that worked correctly report the same
 * gradient digest (after the all-reduce) and the same parameter digest (after the update).
 *
 * @param jobId the job
 * @param step the step, 0-based
 * @param stage pipeline stage k
 * @param replica replica d
 * @param workerId the worker that ran it
 * @param loss mean training loss over this replica's micro-batches; NaN except on the last stage
 * @param examples training examples this replica processed in the step
 * @param tokens input tokens (sequence models) or examples (classifiers) processed
 * @param computeNanos time spent computing and sending in the step
 * @param idleNanos time spent waiting for peers inside the micro-batch schedule (the pipeline
 *     bubble)
 * @param syncNanos time spent in gradient or parameter synchronisation after the schedule
 * @param gradNorm global gradient norm over all stages, before clipping
 * @param lr learning rate of the step
 * @param gradientDigest SHA-256 (hex) of the stage's gradient after the all-reduce, before clipping
 * @param parameterDigest SHA-256 (hex) of the stage's parameters after the update
 * @param determinismClass the worker's compute backend's determinism class: digests of two workers
 *     of one class must be bit-identical, across classes they may differ
 * @param forwardDigest of a traced step ({@link StepMode#TRACED} or {@link StepMode#SHADOW}):
 *     SHA-256 of the activations the stage sent forward, micro-batch by micro-batch (the last
 *     stage: of its micro-batch losses); empty otherwise
 * @param backwardDigest of a traced step: SHA-256 of the gradients the stage sent backward and then
 *     of its local gradient before any all-reduce; empty otherwise
 */
public record StepReport(
    String jobId,
    long step,
    int stage,
    int replica,
    String workerId,
    double loss,
    long examples,
    long tokens,
    long computeNanos,
    long idleNanos,
    long syncNanos,
    double gradNorm,
    double lr,
    String gradientDigest,
    String parameterDigest,
    String determinismClass,
    String forwardDigest,
    String backwardDigest)
    implements TaskMessage {
  public StepReport {
    Objects.requireNonNull(forwardDigest, "forwardDigest");
    Objects.requireNonNull(backwardDigest, "backwardDigest");
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(gradientDigest, "gradientDigest");
    Objects.requireNonNull(parameterDigest, "parameterDigest");
    Objects.requireNonNull(determinismClass, "determinismClass");
  }

  /** The report of an untraced step. */
  public StepReport(
      String jobId,
      long step,
      int stage,
      int replica,
      String workerId,
      double loss,
      long examples,
      long tokens,
      long computeNanos,
      long idleNanos,
      long syncNanos,
      double gradNorm,
      double lr,
      String gradientDigest,
      String parameterDigest,
      String determinismClass) {
    this(
        jobId,
        step,
        stage,
        replica,
        workerId,
        loss,
        examples,
        tokens,
        computeNanos,
        idleNanos,
        syncNanos,
        gradNorm,
        lr,
        gradientDigest,
        parameterDigest,
        determinismClass,
        "",
        "");
  }

  /** Whether the step was traced: its forward and backward digests are set. */
  public boolean traced() {
    return !forwardDigest.isEmpty() || !backwardDigest.isEmpty();
  }

  /** Whether this report carries a loss (only the last stage computes it). */
  public boolean hasLoss() {
    return !Double.isNaN(loss);
  }

  /** Share of the schedule's time this stage waited for peers: idle / (compute + idle). */
  public double bubbleShare() {
    long total = computeNanos + idleNanos;
    return total == 0 ? 0 : (double) idleNanos / total;
  }
}
