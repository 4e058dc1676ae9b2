package io.flotilla.worker.transport;

import java.util.Objects;

/**
 * Identifies one tensor a receiver waits for: the routing fields of its {@link TensorHeader} plus
 * the worker that sent it.
 */
public record TensorKey(
    String jobId, long step, int microBatch, int stage, TensorKind kind, String sourceWorkerId) {
  public TensorKey {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(sourceWorkerId, "sourceWorkerId");
  }
}
