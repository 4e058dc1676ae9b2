package io.flotilla.worker.transport;

import io.aeron.Subscription;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.NanoClock;

/**
 * Duty cycle of the receive side: polls the UDP and IPC subscriptions into the {@link
 * TensorAdapter}, fails transfers whose sender went away or went quiet, and handles images that
 * became unavailable (reported from Aeron's client thread through a queue).
 */
final class TensorReceiveAgent implements Agent {
  private static final int FRAGMENT_LIMIT = 256;
  private static final long STALE_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

  private final Subscription udpSubscription;
  private final Subscription ipcSubscription;
  private final TensorAdapter adapter;
  private final NanoClock clock;
  private final long peerTimeoutNs;
  private final ManyToOneConcurrentArrayQueue<Integer> goneSessions =
      new ManyToOneConcurrentArrayQueue<>(1024);
  private long nextStaleCheckNs;

  TensorReceiveAgent(
      Subscription udpSubscription,
      Subscription ipcSubscription,
      TensorAdapter adapter,
      NanoClock clock,
      long peerTimeoutNs) {
    this.udpSubscription = udpSubscription;
    this.ipcSubscription = ipcSubscription;
    this.adapter = adapter;
    this.clock = clock;
    this.peerTimeoutNs = peerTimeoutNs;
  }

  /** Called from Aeron's client thread when an image goes away. */
  void onImageGone(int sessionId) {
    while (!goneSessions.offer(sessionId)) {
      Thread.onSpinWait();
    }
  }

  @Override
  public int doWork() {
    int work = udpSubscription.poll(adapter, FRAGMENT_LIMIT);
    work += ipcSubscription.poll(adapter, FRAGMENT_LIMIT);
    Integer gone;
    while ((gone = goneSessions.poll()) != null) {
      adapter.onImageGone(gone);
      work++;
    }
    long nowNs = clock.nanoTime();
    if (nowNs - nextStaleCheckNs >= 0) {
      nextStaleCheckNs = nowNs + STALE_CHECK_INTERVAL_NS;
      if (adapter.openTransfers() > 0) {
        work +=
            adapter.expireStale(
                nowNs - peerTimeoutNs, TimeUnit.NANOSECONDS.toMillis(peerTimeoutNs));
      }
    }
    return work;
  }

  @Override
  public String roleName() {
    return "flotilla-tensor-receiver";
  }
}
