package io.flotilla.worker.pipeline;

import io.flotilla.engine.optim.LrSchedule;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.JobSpecs;
import io.flotilla.engine.train.TrainingConfig;
import io.flotilla.protocol.job.JobSpec;

/**
 * The engine's configuration of a job as one pipeline replica or as the equivalent single process:
 * the engine's own mapping ({@link JobSpecs#toJobConfig}) with the batch split the pipeline uses.
 */
public final class EngineJob {
  private EngineJob() {}

  /**
   * The engine's view of the job for one replica: {@code training.microBatches} is the spec's M and
   * {@code training.globalBatch} is one replica's share (M x micro-batch size).
   */
  public static JobConfig forReplica(JobSpec spec) {
    return withBatch(
        JobSpecs.toJobConfig(spec), spec.training().microBatches(), spec.microBatchSize());
  }

  /**
   * The engine's view of the whole job in one process: the global batch split into D x M
   * micro-batches, exactly the (replica, micro-batch) shards a P x D pipeline computes, in the same
   * order ({@link io.flotilla.engine.data.Dataset#shardOffset}).
   */
  public static JobConfig singleProcess(JobSpec spec) {
    int micro = spec.training().microBatches() * spec.parallelism().replicas();
    return withBatch(JobSpecs.toJobConfig(spec), micro, spec.microBatchSize());
  }

  private static JobConfig withBatch(JobConfig job, int microBatches, int microBatchSize) {
    TrainingConfig t = job.training();
    TrainingConfig split =
        new TrainingConfig(
            t.steps(),
            microBatches * microBatchSize,
            microBatches,
            t.seed(),
            t.optimizer(),
            t.warmupSteps(),
            t.minLrRatio(),
            t.checkpointInterval(),
            t.evalInterval());
    return new JobConfig(job.model(), job.initFrom(), job.dataset(), split);
  }

  /** The learning-rate schedule of the job. */
  public static LrSchedule schedule(JobConfig job) {
    TrainingConfig t = job.training();
    return new LrSchedule(t.optimizer().lr(), t.minLr(), t.warmupSteps(), t.steps());
  }
}
