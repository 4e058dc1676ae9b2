package io.flotilla.worker.collective;

import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.ReceivedTensor;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKind;
import io.flotilla.worker.transport.TensorTransport;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Broadcast of a stage's parameters from one replica (the root) to the others of its group, e.g.
 * when a newcomer joins. The root sends to every other replica in parallel; the others receive the
 * tensor, checksum verified, into their own buffer.
 */
public final class ParameterBroadcast {
  private final TensorTransport transport;
  private final Duration timeout;

  public ParameterBroadcast(TensorTransport transport, Duration timeout) {
    this.transport = transport;
    this.timeout = timeout;
  }

  /**
   * On the root, sends {@code data} (position to limit) to every other member; elsewhere, receives
   * the root's tensor into {@code data} (which must have exactly its size). Blocks until done.
   *
   * @param header describes the parameters; its kind must be {@link TensorKind#PARAMETERS}
   * @throws CollectiveException naming the peer when a member or the root fails
   */
  public void broadcast(ReplicaGroup group, int rootRank, TensorHeader header, ByteBuffer data) {
    if (header.kind() != TensorKind.PARAMETERS) {
      throw new IllegalArgumentException("a broadcast carries PARAMETERS, not " + header.kind());
    }
    if (rootRank < 0 || rootRank >= group.size()) {
      throw new IllegalArgumentException("root rank must be in 0.." + (group.size() - 1));
    }
    DataPlanePeer root = group.members().get(rootRank);
    String what =
        "parameter broadcast of job "
            + group.jobId()
            + " stage "
            + group.stage()
            + " from "
            + root.workerId();
    if (group.rank() == rootRank) {
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      List<DataPlanePeer> targets = new ArrayList<>();
      for (int r = 0; r < group.size(); r++) {
        if (r != rootRank) {
          targets.add(group.members().get(r));
          sends.add(transport.send(group.members().get(r), header, data));
        }
      }
      for (int i = 0; i < sends.size(); i++) {
        try {
          sends.get(i).join();
        } catch (CompletionException e) {
          throw new CollectiveException(
              what
                  + " failed sending to "
                  + targets.get(i).describe()
                  + ": "
                  + e.getCause().getMessage(),
              e.getCause());
        }
      }
      return;
    }
    ReceivedTensor tensor;
    try {
      tensor = transport.receive(header.keyFrom(root.workerId()), timeout).join();
    } catch (CompletionException e) {
      throw new CollectiveException(
          what + " failed receiving from " + root.describe() + ": " + e.getCause().getMessage(),
          e.getCause());
    }
    if (tensor.payload().remaining() != data.remaining()) {
      throw new CollectiveException(
          what
              + ": received "
              + tensor.payload().remaining()
              + " bytes, the buffer holds "
              + data.remaining(),
          null);
    }
    data.duplicate().put(tensor.payload().duplicate());
    tensor.release();
  }
}
