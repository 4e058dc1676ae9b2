package io.flotilla.worker.pipeline;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;

/** Tiny job specs for pipeline tests: a 2-block GPT with dropout on 2-digit addition. */
final class TestingSpecs {
  private TestingSpecs() {}

  static JobSpec gpt(
      int stages,
      int replicas,
      String schedule,
      int microBatches,
      int globalBatch,
      int steps,
      String sync) {
    return JobSpecParser.parse(
        """
        name: pipeline-test
        model:
          type: gpt
          layers: 2
          width: 16
          heads: 2
          context: 10
          dropout: 0.1
        dataset:
          type: addition
          options:
            digits: 2
            eval_examples: 16
        training:
          steps: %d
          global_batch: %d
          micro_batches: %d
          seed: 7
          optimizer:
            type: adamw
            lr: 3e-3
            betas: [0.9, 0.98]
            eps: 1e-8
            weight_decay: 0.01
            grad_clip: 0.5
          schedule:
            type: cosine
            warmup_steps: 5
            min_lr_ratio: 0.1
        parallelism:
          pipeline_stages: %d
          replicas: %d
          schedule: %s
          %s
        verification:
          redundancy: none
        checkpoint:
          interval_steps: 1000
        """
            .formatted(steps, globalBatch, microBatches, stages, replicas, schedule, sync));
  }
}
