package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * How long and how to train.
 *
 * @param steps optimizer steps
 * @param globalBatch examples per optimizer step, summed over all replicas and micro-batches
 * @param microBatches micro-batches each replica splits its share into (pipelining, accumulation)
 * @param seed seed for initialisation, data order and dropout
 * @param evalIntervalSteps steps between held-out evaluations, 0 for none during training
 * @param optimizer the optimizer and its hyper-parameters
 * @param schedule the learning-rate schedule
 */
public record TrainingSpec(
    long steps,
    int globalBatch,
    int microBatches,
    long seed,
    long evalIntervalSteps,
    OptimizerSpec optimizer,
    LrScheduleSpec schedule)
    implements ControlMessage {
  public TrainingSpec {
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(schedule, "schedule");
  }
}
