package io.flotilla.engine.train;

import io.flotilla.engine.optim.OptimizerConfig;

/**
 * How to train.
 *
 * @param steps optimizer steps
 * @param globalBatch samples per step, summed over micro-batches (and replicas)
 * @param microBatches micro-batches per step (gradient accumulation); must divide globalBatch
 * @param seed seed for initialisation, data order and dropout
 * @param optimizer AdamW hyper-parameters (peak lr)
 * @param warmupSteps linear warm-up steps of the schedule
 * @param minLrRatio learning rate at the end of the cosine decay as a fraction of the peak (1 =
 *     constant after warm-up)
 * @param checkpointInterval write a checkpoint every this many steps (0 = only at the end)
 * @param evalInterval evaluate on held-out data every this many steps (0 = only at the end)
 */
public record TrainingConfig(
    int steps,
    int globalBatch,
    int microBatches,
    long seed,
    OptimizerConfig optimizer,
    int warmupSteps,
    double minLrRatio,
    int checkpointInterval,
    int evalInterval) {

  /** Validates, naming the wrong field. */
  public TrainingConfig {
    if (steps < 1) {
      throw new IllegalArgumentException("training.steps must be >= 1, got " + steps);
    }
    if (globalBatch < 1 || microBatches < 1 || globalBatch % microBatches != 0) {
      throw new IllegalArgumentException(
          "training.global_batch ("
              + globalBatch
              + ") must be >= 1 and divisible by training.micro_batches ("
              + microBatches
              + ")");
    }
    if (warmupSteps < 0 || checkpointInterval < 0 || evalInterval < 0) {
      throw new IllegalArgumentException(
          "training.schedule.warmup_steps, checkpoint_interval and eval_interval must be >= 0");
    }
    if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
      throw new IllegalArgumentException(
          "training.schedule.min_lr_ratio must be in [0, 1], got " + minLrRatio);
    }
  }

  /** Learning rate at the end of the cosine decay. */
  public float minLr() {
    return (float) (optimizer.lr() * minLrRatio);
  }

  /** The same configuration with {@code newSteps} steps (warm-up capped at them). */
  public TrainingConfig withSteps(int newSteps) {
    return new TrainingConfig(
        newSteps,
        globalBatch,
        microBatches,
        seed,
        optimizer,
        Math.min(warmupSteps, newSteps),
        minLrRatio,
        checkpointInterval,
        evalInterval);
  }

  /** Samples per micro-batch. */
  public int microBatchSize() {
    return globalBatch / microBatches;
  }
}
