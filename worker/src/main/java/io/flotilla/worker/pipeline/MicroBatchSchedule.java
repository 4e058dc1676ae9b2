package io.flotilla.worker.pipeline;

import io.flotilla.protocol.job.PipelineSchedule;
import java.util.ArrayList;
import java.util.List;

/**
 * The order in which one pipeline stage runs the forward and backward passes of a step's
 * micro-batches.
 *
 * <ul>
 *   <li>GPipe: all M forwards, then all M backwards (latest micro-batch first, so the first
 *       backward reuses the activations of the last forward).
 *   <li>1F1B (PipeDream-Flush): stage k of P runs {@code min(P - k - 1, M)} warm-up forwards, then
 *       alternates one forward and one backward, then drains the remaining backwards. At most
 *       {@code P - k} micro-batches are in flight per stage instead of M.
 * </ul>
 *
 * Both orders give the same gradients: each micro-batch's backward uses the activations of its own
 * forward, and gradients are summed over all micro-batches before the optimizer step.
 */
public final class MicroBatchSchedule {
  private MicroBatchSchedule() {}

  /**
   * One pass of one micro-batch.
   *
   * @param forward true for a forward pass, false for a backward pass
   * @param microBatch the micro-batch index in {@code 0..M-1}
   */
  public record Pass(boolean forward, int microBatch) {
    @Override
    public String toString() {
      return (forward ? "F" : "B") + microBatch;
    }
  }

  /** The passes of stage {@code stage} of {@code stages} for {@code microBatches}, in order. */
  public static List<Pass> passes(
      PipelineSchedule schedule, int stage, int stages, int microBatches) {
    if (stages < 1 || stage < 0 || stage >= stages || microBatches < 1) {
      throw new IllegalArgumentException(
          "need 0 <= stage < stages and micro-batches >= 1, got stage "
              + stage
              + " of "
              + stages
              + ", "
              + microBatches
              + " micro-batches");
    }
    List<Pass> passes = new ArrayList<>(2 * microBatches);
    switch (schedule) {
      case GPIPE -> {
        for (int i = 0; i < microBatches; i++) {
          passes.add(new Pass(true, i));
        }
        for (int i = microBatches - 1; i >= 0; i--) {
          passes.add(new Pass(false, i));
        }
      }
      case ONE_F_ONE_B -> {
        int warmup = Math.min(stages - stage - 1, microBatches);
        for (int i = 0; i < warmup; i++) {
          passes.add(new Pass(true, i));
        }
        for (int i = 0; i < microBatches - warmup; i++) {
          passes.add(new Pass(true, warmup + i));
          passes.add(new Pass(false, i));
        }
        for (int i = microBatches - warmup; i < microBatches; i++) {
          passes.add(new Pass(false, i));
        }
      }
    }
    return passes;
  }
}
