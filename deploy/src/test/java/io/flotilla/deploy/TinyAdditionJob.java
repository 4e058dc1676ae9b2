package io.flotilla.deploy;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;

/**
 * The small job the cluster tests train: a GPT of width 32 learning two-digit addition, a few
 * seconds of CPU per run. Each test sets what it is about (parallelism, steps, checkpoints,
 * payment) and keeps the rest: 2 layers, a global batch of 8 in 2 micro-batches, seed 7, AdamW at
 * 3e-3 with gradients clipped at norm 1, a constant schedule, 2 stages x 1 replica in 1F1B order, a
 * checkpoint every 3 steps, paid per task with a budget of 1 credit.
 */
final class TinyAdditionJob {

  private final String name;
  private final int steps;
  private int layers = 2;
  private int globalBatch = 8;
  private int microBatches = 2;
  private int seed = 7;
  private boolean gradClip = true;
  private String schedule = "{type: constant}";
  private int stages = 2;
  private int replicas = 1;
  private String pipelineSchedule = "1f1b";
  private int checkpointEvery = 3;
  private int keepLast = 1;
  private String budget = "1";
  private String verification = null;

  private TinyAdditionJob(String name, int steps) {
    this.name = name;
    this.steps = steps;
  }

  /** The job {@code name} training for {@code steps} steps, with the defaults above. */
  static TinyAdditionJob named(String name, int steps) {
    return new TinyAdditionJob(name, steps);
  }

  TinyAdditionJob layers(int n) {
    layers = n;
    return this;
  }

  TinyAdditionJob batch(int global, int micro) {
    globalBatch = global;
    microBatches = micro;
    return this;
  }

  TinyAdditionJob seed(int s) {
    seed = s;
    return this;
  }

  TinyAdditionJob noGradClip() {
    gradClip = false;
    return this;
  }

  /** The learning-rate schedule, as YAML flow ({@code {type: cosine, ...}}). */
  TinyAdditionJob schedule(String flow) {
    schedule = flow;
    return this;
  }

  TinyAdditionJob parallelism(int pipelineStages, int dataReplicas, String order) {
    stages = pipelineStages;
    replicas = dataReplicas;
    pipelineSchedule = order;
    return this;
  }

  TinyAdditionJob checkpoint(int every, int keep) {
    checkpointEvery = every;
    keepLast = keep;
    return this;
  }

  /** Credits the job may spend; null makes it unpaid. */
  TinyAdditionJob budget(String credits) {
    budget = credits;
    return this;
  }

  /** The job's verification section, as YAML flow ({@code {redundancy: adaptive}}). */
  TinyAdditionJob verification(String flow) {
    verification = flow;
    return this;
  }

  /** The job spec as a team would write it. */
  String yaml() {
    String payment =
        budget == null
            ? ""
            : "payment: {unit: per-task, price: 0.001, budget: "
                + budget
                + ", currency: credits}\n";
    return """
        name: %s
        model: {type: gpt, layers: %d, width: 32, heads: 2, context: 12, dropout: 0.0}
        dataset:
          type: addition
          options: {digits: 2, train_examples: 2000, eval_examples: 100}
        training:
          steps: %d
          global_batch: %d
          micro_batches: %d
          seed: %d
          optimizer: {type: adamw, lr: 3e-3%s}
          schedule: %s
        parallelism: {pipeline_stages: %d, replicas: %d, schedule: %s}
        checkpoint: {interval_steps: %d, keep_last: %d}
        """
            .formatted(
                name,
                layers,
                steps,
                globalBatch,
                microBatches,
                seed,
                gradClip ? ", grad_clip: 1.0" : "",
                schedule,
                stages,
                replicas,
                pipelineSchedule,
                checkpointEvery,
                keepLast)
        + payment
        + (verification == null ? "" : "verification: " + verification + "\n");
  }

  /** The parsed spec. */
  JobSpec spec() {
    return JobSpecParser.parse(yaml());
  }
}
