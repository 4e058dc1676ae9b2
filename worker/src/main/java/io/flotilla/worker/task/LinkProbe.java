package io.flotilla.worker.task;

import io.flotilla.protocol.task.LinkMeasured;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.ReceivedTensor;
import io.flotilla.worker.transport.TensorDtype;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKey;
import io.flotilla.worker.transport.TensorKind;
import io.flotilla.worker.transport.TensorTransport;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Measures a data-plane link with round trips of probe tensors: a small one (latency) and a large
 * one (throughput, net of the small one's round trip), each sent by the initiator and sent back by
 * the responder. Blocking: run it off actor threads.
 */
final class LinkProbe {
  static final int SMALL_BYTES = 4 * 1024;
  static final int LARGE_BYTES = 1024 * 1024;
  private static final int[] SIZES = {SMALL_BYTES, SMALL_BYTES, LARGE_BYTES};

  private LinkProbe() {}

  /** Sends each probe to {@code peer} and waits for it to come back; returns the measurement. */
  static LinkMeasured initiate(
      TensorTransport transport, String probeId, StageSlot peer, Duration timeout) {
    DataPlanePeer to = DataPlanePeer.udp(peer.workerId(), peer.endpoint(), peer.streamId());
    long[] nanos = new long[SIZES.length];
    for (int i = 0; i < SIZES.length; i++) {
      long t0 = System.nanoTime();
      transport.send(to, header(probeId, 2 * i, SIZES[i]), payload(SIZES[i])).join();
      ReceivedTensor back =
          transport.receive(key(probeId, 2 * i + 1, peer.workerId()), timeout).join();
      nanos[i] = System.nanoTime() - t0;
      back.release();
    }
    // The first small round trip warms the path up; the second measures latency.
    long small = nanos[1];
    long extra = Math.max(1, nanos[2] - small);
    double bytesPerSecond = 2.0 * (LARGE_BYTES - SMALL_BYTES) / (extra / 1e9);
    return new LinkMeasured(
        probeId, transport.workerId(), peer.workerId(), small / 2 / 1000, bytesPerSecond);
  }

  /** Sends back every probe {@code peer} sends. */
  static void respond(TensorTransport transport, String probeId, StageSlot peer, Duration timeout) {
    DataPlanePeer to = DataPlanePeer.udp(peer.workerId(), peer.endpoint(), peer.streamId());
    for (int i = 0; i < SIZES.length; i++) {
      ReceivedTensor probe =
          transport.receive(key(probeId, 2 * i, peer.workerId()), timeout).join();
      probe.release();
      transport.send(to, header(probeId, 2 * i + 1, SIZES[i]), payload(SIZES[i])).join();
    }
  }

  private static TensorHeader header(String probeId, long step, int bytes) {
    return new TensorHeader(
        probeId, step, 0, 0, TensorKind.PARAMETERS, TensorDtype.UINT8, new long[] {bytes});
  }

  private static TensorKey key(String probeId, long step, String source) {
    return new TensorKey(probeId, step, 0, 0, TensorKind.PARAMETERS, source);
  }

  private static ByteBuffer payload(int bytes) {
    return ByteBuffer.allocateDirect(bytes);
  }
}
