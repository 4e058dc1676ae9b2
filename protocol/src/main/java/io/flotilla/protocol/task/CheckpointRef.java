package io.flotilla.protocol.task;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * Where a stage's checkpoint shard can be downloaded, and what it must hash to.
 *
 * @param url an HTTP address serving the shard's bytes
 * @param sha256 the SHA-256 of those bytes, hex; a download that hashes otherwise is rejected
 * @param step the step after which the shard was written (the step training resumes at)
 */
public record CheckpointRef(String url, String sha256, long step) implements ControlMessage {
  public CheckpointRef {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(sha256, "sha256");
    if (!sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, was " + sha256);
    }
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, was " + step);
    }
  }
}
