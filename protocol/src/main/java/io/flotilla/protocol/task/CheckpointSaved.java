package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * A stage host wrote and uploaded its stage's checkpoint shard.
 *
 * @param jobId the job
 * @param step the step after which the shard was written (the number of completed steps)
 * @param stage the stage the shard holds
 * @param workerId the worker that wrote it
 * @param sha256 SHA-256 of the shard's bytes, hex
 * @param bytes the shard's size
 */
public record CheckpointSaved(
    String jobId, long step, int stage, String workerId, String sha256, long bytes)
    implements TaskMessage {
  public CheckpointSaved {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(sha256, "sha256");
  }
}
