package io.flotilla.protocol.task;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import java.util.Objects;

/**
 * The worker that runs one (stage, replica) slot of a job's pipeline and where it receives tensors.
 *
 * @param stage pipeline stage k, 0-based
 * @param replica data-parallel replica d, 0-based
 * @param workerId the worker's id (the source id its tensors carry)
 * @param endpoint the worker's data-plane UDP endpoint
 * @param streamId the Aeron stream id of the worker's tensor subscription
 */
public record StageSlot(
    int stage, int replica, String workerId, DataPlaneEndpoint endpoint, int streamId)
    implements ControlMessage {
  public StageSlot {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(endpoint, "endpoint");
    if (workerId.isBlank()) {
      throw new IllegalArgumentException("slot (" + stage + ", " + replica + "): blank workerId");
    }
    if (stage < 0 || replica < 0) {
      throw new IllegalArgumentException(
          "slot stage and replica must be >= 0, were " + stage + ", " + replica);
    }
  }
}
