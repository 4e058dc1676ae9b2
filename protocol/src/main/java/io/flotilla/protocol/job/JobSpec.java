package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * A training job as an ML team describes it: what to train, on what data, how, split how, checked
 * how and paid how. Parsed and validated from YAML or JSON by {@link JobSpecParser}; every field is
 * documented in {@code docs/job-spec.md}.
 *
 * <p>The team that owns a job and its id are not part of the spec: the server sets them from the
 * submitter's credentials.
 *
 * @param name short job name, {@code [a-z0-9][a-z0-9-]*}, at most 63 characters
 * @param description free text, empty when absent
 * @param model the network to train
 * @param dataset the data to train it on
 * @param training steps, batch sizes, optimizer and learning-rate schedule
 * @param parallelism pipeline stages, data-parallel replicas and how they synchronise
 * @param verification how results of untrusted workers are checked
 * @param payment how workers are paid, or {@link PaymentSpec#NONE} for unpaid jobs
 * @param checkpoint how often the model is saved
 */
public record JobSpec(
    String name,
    String description,
    ModelSpec model,
    DatasetSpec dataset,
    TrainingSpec training,
    ParallelismSpec parallelism,
    VerificationSpec verification,
    PaymentSpec payment,
    CheckpointSpec checkpoint)
    implements ControlMessage {
  public JobSpec {
    Objects.requireNonNull(name, "name");
    description = description == null ? "" : description;
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(dataset, "dataset");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(parallelism, "parallelism");
    Objects.requireNonNull(verification, "verification");
    Objects.requireNonNull(payment, "payment");
    Objects.requireNonNull(checkpoint, "checkpoint");
  }

  /** The micro-batch size one replica processes: global batch / (replicas x micro-batches). */
  public int microBatchSize() {
    return training.globalBatch() / (parallelism.replicas() * training.microBatches());
  }

  /** This spec with {@code training.steps} set to {@code steps} (the schedule follows it). */
  public JobSpec withSteps(long steps) {
    TrainingSpec t = training;
    return new JobSpec(
        name,
        description,
        model,
        dataset,
        new TrainingSpec(
            steps,
            t.globalBatch(),
            t.microBatches(),
            t.seed(),
            t.evalIntervalSteps(),
            t.optimizer(),
            t.schedule()),
        parallelism,
        verification,
        payment,
        checkpoint);
  }
}
