package io.flotilla.engine.train;

import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.optim.OptimizerConfig;
import io.flotilla.protocol.job.GptModelSpec;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.MlpModelSpec;
import io.flotilla.protocol.job.OptimizerSpec;
import io.flotilla.protocol.job.TrainingSpec;

/**
 * Maps a validated {@link JobSpec} (docs/job-spec.md) onto the engine's {@link JobConfig}.
 *
 * <p>Parallelism, verification and payment do not concern one process and are not mapped. A {@code
 * constant} schedule becomes a cosine whose end rate equals its peak ({@code min_lr_ratio} 1),
 * which is the same curve. {@code checkpoint.keep_last} is not mapped: a local run keeps only its
 * latest checkpoint.
 */
public final class JobSpecs {
  private JobSpecs() {}

  /** The engine configuration for {@code spec}; the spec must have passed validation. */
  public static JobConfig toJobConfig(JobSpec spec) {
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
    String initFrom = spec.model().initFrom().isEmpty() ? null : spec.model().initFrom();
    DatasetConfig dataset =
        new DatasetConfig(
            spec.dataset().type().specName(),
            spec.dataset().source().isEmpty() ? null : spec.dataset().source(),
            spec.dataset().options());
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
    double minLrRatio = "constant".equals(t.schedule().type()) ? 1.0 : t.schedule().minLrRatio();
    TrainingConfig training =
        new TrainingConfig(
            Math.toIntExact(t.steps()),
            t.globalBatch(),
            t.microBatches(),
            t.seed(),
            optimizer,
            Math.toIntExact(t.schedule().warmupSteps()),
            minLrRatio,
            Math.toIntExact(spec.checkpoint().intervalSteps()),
            Math.toIntExact(t.evalIntervalSteps()));
    return new JobConfig(model, initFrom, dataset, training);
  }
}
