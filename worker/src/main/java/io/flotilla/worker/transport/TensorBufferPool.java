package io.flotilla.worker.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Off-heap buffers for inbound tensors, reused once their tensors are {@link
 * ReceivedTensor#release() released}.
 *
 * <p>A fresh direct buffer costs a pass that zeroes it plus a page fault per page on first touch:
 * for a 4 MiB tensor that is more than the copy of its bytes off the term buffer and dominated the
 * receive thread. Released buffers are kept, most recently released first, up to {@code
 * capacityBytes} in all; the least recently released go first when that is exceeded. A buffer is
 * only handed out again for a tensor of exactly its size (training repeats the same shapes every
 * step), so nothing is wasted on rounding. Tensors below {@link #MIN_POOLED_BYTES} are allocated
 * directly. Thread-safe: acquired on the receive agent, released from any thread.
 */
final class TensorBufferPool {
  /** Smaller tensors are cheap to allocate and are not pooled. */
  static final int MIN_POOLED_BYTES = 64 * 1024;

  private final long capacityBytes;
  private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
  private long freeBytes;

  TensorBufferPool(long capacityBytes) {
    this.capacityBytes = capacityBytes;
  }

  /** A buffer of exactly {@code bytes} capacity, little-endian; contents undefined. */
  ByteBuffer acquire(int bytes) {
    if (bytes >= MIN_POOLED_BYTES && capacityBytes > 0) {
      synchronized (this) {
        for (Iterator<ByteBuffer> it = free.iterator(); it.hasNext(); ) {
          ByteBuffer candidate = it.next();
          if (candidate.capacity() == bytes) {
            it.remove();
            freeBytes -= bytes;
            return candidate.clear().order(ByteOrder.LITTLE_ENDIAN);
          }
        }
      }
    }
    return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Takes back a buffer from {@link #acquire}; its previous user must not touch it again. */
  void release(ByteBuffer buffer) {
    int bytes = buffer.capacity();
    if (bytes < MIN_POOLED_BYTES || bytes > capacityBytes) {
      return;
    }
    synchronized (this) {
      free.addFirst(buffer);
      freeBytes += bytes;
      while (freeBytes > capacityBytes) {
        freeBytes -= free.removeLast().capacity();
      }
    }
  }

  /** Bytes held for reuse. */
  synchronized long freeBytes() {
    return freeBytes;
  }
}
