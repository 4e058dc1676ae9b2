package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import java.util.List;
import java.util.Objects;

/**
 * What one optimizer step of a job measured, gathered from the reports of all its stage replicas.
 *
 * @param step the step number, 1-based (the number of steps completed with it)
 * @param loss mean training loss over the replicas' last stages
 * @param tokens input tokens (or examples) the step trained on, over all replicas
 * @param stepNanos wall time from sending the step's orders to the last report
 * @param bubbleShare mean share of schedule time the stages waited for peers
 * @param gradNorm global gradient norm before clipping (as the first report states it)
 * @param lr learning rate of the step
 * @param work per slot: who computed what
 */
public record StepMetrics(
    long step,
    double loss,
    long tokens,
    long stepNanos,
    double bubbleShare,
    double gradNorm,
    double lr,
    List<SlotWork> work)
    implements ControlMessage {
  public StepMetrics {
    work = List.copyOf(Objects.requireNonNull(work, "work"));
  }

  /** Tokens per second of this step. */
  public double tokensPerSecond() {
    return stepNanos == 0 ? 0 : tokens / (stepNanos / 1e9);
  }

  /**
   * One slot's work in one step.
   *
   * @param workerId the worker
   * @param stage its stage
   * @param replica its replica
   * @param computeNanos time computing and sending
   * @param idleNanos time waiting for pipeline neighbours
   * @param syncNanos time in gradient synchronisation
   * @param examples examples it processed
   */
  public record SlotWork(
      String workerId,
      int stage,
      int replica,
      long computeNanos,
      long idleNanos,
      long syncNanos,
      long examples)
      implements ControlMessage {
    public SlotWork {
      Objects.requireNonNull(workerId, "workerId");
    }
  }
}
