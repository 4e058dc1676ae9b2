package io.flotilla.worker.transport;

import io.flotilla.protocol.worker.DataPlaneEndpoint;
import java.util.Objects;

/**
 * A worker that tensors can be sent to: its id (named in every error) and how to reach it.
 *
 * @param workerId the peer's worker id
 * @param endpoint the peer's UDP endpoint, or null for a transport in this process (IPC)
 * @param streamId the peer's Aeron stream id
 */
public record DataPlanePeer(String workerId, DataPlaneEndpoint endpoint, int streamId) {
  public DataPlanePeer {
    Objects.requireNonNull(workerId, "workerId");
    if (workerId.isBlank()) {
      throw new IllegalArgumentException("workerId must not be blank");
    }
  }

  /** A peer reached over UDP at its published endpoint. */
  public static DataPlanePeer udp(String workerId, DataPlaneEndpoint endpoint, int streamId) {
    return new DataPlanePeer(workerId, Objects.requireNonNull(endpoint, "endpoint"), streamId);
  }

  /** A peer that shares this process's media driver, reached over IPC on its stream id. */
  public static DataPlanePeer ipc(String workerId, int streamId) {
    return new DataPlanePeer(workerId, null, streamId);
  }

  /** True when reached over IPC. */
  public boolean isIpc() {
    return endpoint == null;
  }

  /** How errors name this peer. */
  public String describe() {
    return "peer "
        + workerId
        + (isIpc()
            ? " (ipc stream " + streamId + ")"
            : " (" + endpoint.host() + ":" + endpoint.port() + " stream " + streamId + ")");
  }
}
