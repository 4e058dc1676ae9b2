package io.flotilla.worker.pipeline;

import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.optim.LrSchedule;
import io.flotilla.engine.optim.OptimizerConfig;
import io.flotilla.engine.train.DatasetConfig;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.TrainingConfig;
import io.flotilla.protocol.job.GptModelSpec;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.LrScheduleSpec;
import io.flotilla.protocol.job.MlpModelSpec;
import io.flotilla.protocol.job.OptimizerSpec;
import io.flotilla.protocol.job.TrainingSpec;
import java.util.HashMap;
import java.util.Map;

/**
 * Maps a validated {@link JobSpec} onto the engine's configuration records, so a stage executor and
 * a single-process trainer build the same model, data and optimizer from the same spec.
 */
public final class EngineJob {
  private EngineJob() {}

  /**
   * The engine's view of the job for one replica: {@code training.microBatches} is the spec's M and
   * {@code training.globalBatch} is one replica's share (M x micro-batch size).
   */
  public static JobConfig forReplica(JobSpec spec) {
    return config(spec, spec.training().microBatches(), spec.microBatchSize());
  }

  /**
   * The engine's view of the whole job in one process: the global batch split into D x M
   * micro-batches, exactly the (replica, micro-batch) shards a P x D pipeline computes, in the same
   * order ({@link io.flotilla.engine.data.Dataset#shardOffset}).
   */
  public static JobConfig singleProcess(JobSpec spec) {
    int micro = spec.training().microBatches() * spec.parallelism().replicas();
    return config(spec, micro, spec.microBatchSize());
  }

  private static JobConfig config(JobSpec spec, int microBatches, int microBatchSize) {
    ModelConfig model =
        switch (spec.model()) {
          case GptModelSpec g ->
              ModelConfig.gpt(
                  g.layers(),
                  g.width(),
                  g.heads(),
                  g.context(),
                  g.vocabSize(),
                  (float) g.dropout());
          case MlpModelSpec m ->
              ModelConfig.mlp(m.inputSize(), m.hiddenSizes(), m.numClasses(), (float) m.dropout());
        };
    Map<String, String> options = new HashMap<>(spec.dataset().options());
    String eval = options.get("eval_examples");
    if (eval != null) {
      options.put("eval_samples", eval);
    }
    DatasetConfig dataset =
        new DatasetConfig(spec.dataset().type().specName(), spec.dataset().source(), options);
    TrainingSpec t = spec.training();
    OptimizerSpec o = t.optimizer();
    OptimizerConfig optimizer =
        new OptimizerConfig(
            (float) o.lr(),
            (float) o.beta1(),
            (float) o.beta2(),
            (float) o.eps(),
            (float) o.weightDecay(),
            (float) o.gradClip());
    TrainingConfig training =
        new TrainingConfig(
            Math.toIntExact(t.steps()),
            microBatches * microBatchSize,
            microBatches,
            t.seed(),
            optimizer,
            Math.toIntExact(t.schedule().warmupSteps()),
            minLr(t.schedule(), optimizer.lr()),
            0,
            Math.toIntExact(t.evalIntervalSteps()));
    String initFrom = spec.model().initFrom().isEmpty() ? null : spec.model().initFrom();
    return new JobConfig(model, initFrom, dataset, training);
  }

  private static float minLr(LrScheduleSpec schedule, float lr) {
    return "constant".equals(schedule.type()) ? lr : (float) (lr * schedule.minLrRatio());
  }

  /** The learning-rate schedule of the job. */
  public static LrSchedule schedule(JobConfig job) {
    TrainingConfig t = job.training();
    return new LrSchedule(t.optimizer().lr(), t.minLr(), t.warmupSteps(), t.steps());
  }
}
