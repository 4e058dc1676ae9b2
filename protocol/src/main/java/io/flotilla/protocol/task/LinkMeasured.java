package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * A data-plane link measured by round trips of probe tensors between two workers.
 *
 * @param jobId the probe's id
 * @param fromWorker the worker that measured
 * @param toWorker its peer
 * @param latencyMicros half the round trip of a small tensor
 * @param bytesPerSecond throughput of a large tensor's round trip, net of the small one's
 */
public record LinkMeasured(
    String jobId, String fromWorker, String toWorker, long latencyMicros, double bytesPerSecond)
    implements TaskMessage {
  public LinkMeasured {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(fromWorker, "fromWorker");
    Objects.requireNonNull(toWorker, "toWorker");
  }
}
