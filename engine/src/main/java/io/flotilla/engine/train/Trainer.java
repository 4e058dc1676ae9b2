package io.flotilla.engine.train;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.data.Batch;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.nn.CrossEntropyLoss;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.optim.AdamW;
import io.flotilla.engine.optim.LrSchedule;
import io.flotilla.engine.tensor.Tensor;

/**
 * One training step in one process: gradient accumulation over micro-batches, clipping, the
 * scheduled learning rate and an AdamW update. The step's loss is the mean over micro-batches of
 * each micro-batch's mean per-target loss, matching what a pipeline of stages computes for the same
 * (seed, step, micro-batch) shards.
 */
public final class Trainer {
  private final Model model;
  private final Dataset data;
  private final TrainingConfig config;
  private final AdamW optimizer;
  private final LrSchedule schedule;
  private final CrossEntropyLoss loss;
  private final Batch batch = new Batch();

  /**
   * Statistics of one step.
   *
   * @param loss mean loss
   * @param gradNorm global gradient norm before clipping
   * @param lr learning rate used
   * @param tokens tokens (sequence tasks) or samples processed
   */
  public record StepStats(double loss, double gradNorm, float lr, long tokens) {}

  /** A trainer for this model and data. */
  public Trainer(ComputeBackend backend, Model model, Dataset data, TrainingConfig config) {
    this.model = model;
    this.data = data;
    this.config = config;
    this.optimizer = new AdamW(backend, model.parameters(), config.optimizer());
    this.schedule =
        new LrSchedule(
            config.optimizer().lr(), config.minLr(), config.warmupSteps(), config.steps());
    this.loss = new CrossEntropyLoss(backend);
  }

  /** The optimizer (for checkpoints). */
  public AdamW optimizer() {
    return optimizer;
  }

  /** Seed of the dropout masks of (step, micro-batch) for replica 0. */
  public static long passSeed(long seed, long step, int microBatch) {
    return Dataset.sampleHash(seed, step, 1_000_000_007L + microBatch);
  }

  /** Runs 0-based step {@code step}. */
  public StepStats step(int step) {
    model.zeroGrad();
    int mb = config.microBatchSize();
    int m = config.microBatches();
    double lossSum = 0;
    long tokens = 0;
    for (int k = 0; k < m; k++) {
      data.fillTrain(config.seed(), step, Dataset.shardOffset(0, k, m, mb), mb, batch);
      Tensor logits =
          model.forward(batch.inputs(), new ForwardContext(true, passSeed(config.seed(), step, k)));
      int count = CrossEntropyLoss.countTargets(batch.targets());
      double sum = loss.forwardBackward(logits, batch.targets(), 1f / (Math.max(1, count) * m));
      lossSum += sum / Math.max(1, count);
      model.backward(loss.grad());
      tokens += batch.inputs().size() / (data.isSequence() ? 1 : data.inputLength());
    }
    double norm = optimizer.clipGradients();
    float lr = schedule.lr(step);
    optimizer.step(lr);
    return new StepStats(lossSum / m, norm, lr, tokens);
  }
}
