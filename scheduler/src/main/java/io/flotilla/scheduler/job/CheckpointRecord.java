package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A checkpoint of a job: one shard per pipeline stage, content-addressed by SHA-256 in the
 * scheduler's checkpoint store.
 *
 * @param step the number of steps completed when it was written (training resumes there)
 * @param shards one per stage, in stage order
 */
public record CheckpointRecord(long step, List<Shard> shards) implements ControlMessage {
  public CheckpointRecord {
    shards =
        Objects.requireNonNull(shards, "shards").stream()
            .sorted(Comparator.comparingInt(Shard::stage))
            .toList();
  }

  /**
   * One stage's shard.
   *
   * @param stage the pipeline stage
   * @param sha256 SHA-256 of the shard's bytes, hex
   * @param bytes its size
   */
  public record Shard(int stage, String sha256, long bytes) implements ControlMessage {
    public Shard {
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /** Total bytes of the shards. */
  public long bytes() {
    return shards.stream().mapToLong(Shard::bytes).sum();
  }
}
