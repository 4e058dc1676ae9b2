package io.flotilla.engine.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.model.ModelConfig;
import io.flotilla.engine.optim.OptimizerConfig;
import io.flotilla.protocol.job.JobSpecParser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobSpecsTest {

  @Test
  void everyGptFieldLandsInTheEngineConfig() {
    JobConfig job =
        JobSpecs.toJobConfig(
            JobSpecParser.parse(
                """
                name: mapped
                model:
                  type: gpt
                  layers: 3
                  width: 96
                  heads: 6
                  context: 40
                  vocab_size: 77
                  dropout: 0.25
                  init_from: /models/gpt2
                dataset:
                  type: tokens
                  source: /data/train.bin
                  options: {eval_source: /data/val.bin, eval_fraction: 0.2}
                training:
                  steps: 1234
                  global_batch: 96
                  micro_batches: 4
                  seed: 17
                  eval_interval_steps: 111
                  optimizer:
                    lr: 0.004
                    betas: [0.85, 0.97]
                    eps: 1e-7
                    weight_decay: 0.2
                    grad_clip: 0.5
                  schedule: {type: cosine, warmup_steps: 33, min_lr_ratio: 0.25}
                parallelism: {pipeline_stages: 2, replicas: 3}
                checkpoint: {interval_steps: 222, keep_last: 5}
                """));
    assertThat(job.model()).isEqualTo(ModelConfig.gpt(3, 96, 6, 40, 77, 0.25f));
    assertThat(job.initFrom()).isEqualTo("/models/gpt2");
    assertThat(job.dataset())
        .isEqualTo(
            new DatasetConfig(
                "tokens",
                "/data/train.bin",
                Map.of("eval_source", "/data/val.bin", "eval_fraction", "0.2")));
    TrainingConfig t = job.training();
    assertThat(t.optimizer())
        .isEqualTo(new OptimizerConfig(0.004f, 0.85f, 0.97f, 1e-7f, 0.2f, 0.5f));
    assertThat(t).isEqualTo(new TrainingConfig(1234, 96, 4, 17, t.optimizer(), 33, 0.25, 222, 111));
    assertThat(t.minLr()).isEqualTo(0.001f);
  }

  @Test
  void mlpDefaultsAndAbsentFieldsMapToTheEngineDefaults() {
    JobConfig job =
        JobSpecs.toJobConfig(
            JobSpecParser.parse(
                """
                name: mlp
                model: {type: mlp, hidden_sizes: [64, 32]}
                dataset: {type: idx, source: /data/fashion, options: {eval_prefix: test}}
                training: {steps: 10, global_batch: 8, schedule: {type: constant, warmup_steps: 2}}
                """));
    assertThat(job.model()).isEqualTo(ModelConfig.mlp(784, List.of(64, 32), 10, 0f));
    assertThat(job.initFrom()).isNull();
    assertThat(job.dataset())
        .isEqualTo(
            new DatasetConfig(
                "idx", "/data/fashion", Map.of("train_prefix", "train", "eval_prefix", "test")));
    TrainingConfig t = job.training();
    // job-spec defaults: AdamW lr 1e-3, betas (0.9, 0.999), eps 1e-8, no decay, clip 1.0
    assertThat(t.optimizer()).isEqualTo(new OptimizerConfig(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1f));
    // a constant schedule is a cosine that ends at the peak; checkpoints default to 1000 steps
    assertThat(t).isEqualTo(new TrainingConfig(10, 8, 1, 0, t.optimizer(), 2, 1.0, 1000, 0));
    assertThat(t.minLr()).isEqualTo(t.optimizer().lr());
  }

  @Test
  void additionOptionsAndAbsentSourceMap() {
    JobConfig job =
        JobSpecs.toJobConfig(
            JobSpecParser.parse(
                """
                name: add
                model: {type: gpt, layers: 1, width: 8, heads: 2, context: 12}
                dataset: {type: addition, options: {eval_examples: 2000}}
                training: {steps: 5, global_batch: 4}
                """));
    assertThat(job.model().vocab()).isZero();
    assertThat(job.dataset())
        .isEqualTo(
            new DatasetConfig(
                "addition",
                null,
                Map.of("digits", "3", "train_examples", "100000", "eval_examples", "2000")));
    assertThat(job.training().minLrRatio()).isEqualTo(0.1);
    var data = LocalTrainer.openDataset(job);
    assertThat(data.evalSize()).isEqualTo(2000);
    assertThat(data.describe()).contains("100000 training sums");
  }
}
