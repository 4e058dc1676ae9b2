package io.flotilla.worker.transport;

import java.util.Arrays;
import java.util.Objects;

/**
 * What travels in front of a tensor's bytes: where it belongs in a job and how to read it. The
 * transport adds the payload length, the sender's worker id and a CRC32C of the payload.
 *
 * @param jobId the job, at most {@link #MAX_ID_BYTES} UTF-8 bytes
 * @param step training step
 * @param microBatch micro-batch within the step (collectives use it for their round)
 * @param stage pipeline stage
 * @param kind what the tensor is for
 * @param dtype element type
 * @param shape dimensions, each >= 0, at most {@link #MAX_RANK} of them
 */
public record TensorHeader(
    String jobId,
    long step,
    int microBatch,
    int stage,
    TensorKind kind,
    TensorDtype dtype,
    long[] shape) {

  /** Most dimensions a tensor may have. */
  public static final int MAX_RANK = 16;

  /** Longest job id or worker id in UTF-8 bytes. */
  public static final int MAX_ID_BYTES = 255;

  public TensorHeader {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    if (jobId.isEmpty()
        || jobId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
      throw new IllegalArgumentException(
          "jobId must be 1.." + MAX_ID_BYTES + " UTF-8 bytes, was '" + jobId + "'");
    }
    if (shape.length > MAX_RANK) {
      throw new IllegalArgumentException(
          "shape may have at most " + MAX_RANK + " dimensions, had " + shape.length);
    }
    shape = shape.clone();
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException(
            "shape dimensions must be >= 0: " + Arrays.toString(shape));
      }
    }
  }

  /** A copy of the dimensions. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements (product of the dimensions; 1 for a scalar). */
  public long elementCount() {
    long count = 1;
    for (long dim : shape) {
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  /** Payload bytes the shape and dtype call for. */
  public long payloadBytes() {
    return dtype.payloadBytes(elementCount());
  }

  /** The receive-side key of this tensor when sent by {@code sourceWorkerId}. */
  public TensorKey keyFrom(String sourceWorkerId) {
    return new TensorKey(jobId, step, microBatch, stage, kind, sourceWorkerId);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorHeader h
        && step == h.step
        && microBatch == h.microBatch
        && stage == h.stage
        && jobId.equals(h.jobId)
        && kind == h.kind
        && dtype == h.dtype
        && Arrays.equals(shape, h.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(jobId, step, microBatch, stage, kind, dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return "TensorHeader[job="
        + jobId
        + ", step="
        + step
        + ", microBatch="
        + microBatch
        + ", stage="
        + stage
        + ", kind="
        + kind
        + ", dtype="
        + dtype
        + ", shape="
        + Arrays.toString(shape)
        + "]";
  }
}
