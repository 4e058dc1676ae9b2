package io.flotilla.worker.pipeline;

import io.flotilla.protocol.task.StageSlot;
import io.flotilla.worker.transport.DataPlanePeer;

/** How a stage executor reaches the worker of another slot on the data plane. */
@FunctionalInterface
public interface PeerDirectory {

  /** The peer that runs {@code slot}. */
  DataPlanePeer peerOf(StageSlot slot);

  /** Every slot over UDP at its published endpoint (the default between hosts). */
  static PeerDirectory udp() {
    return slot -> DataPlanePeer.udp(slot.workerId(), slot.endpoint(), slot.streamId());
  }
}
