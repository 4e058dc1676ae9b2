package io.flotilla.engine.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory ({@code cuMemAllocHost}): the GPU copies it by DMA, so asynchronous
 * copies from and to it overlap kernels. Used as the backend's staging area and offered to the data
 * plane for tensors that go to or come from the GPU.
 */
public final class PinnedHostBuffer implements AutoCloseable {
  private final Pointer pointer;
  private final long bytes;
  private final ByteBuffer buffer;
  private boolean closed;

  private PinnedHostBuffer(Pointer pointer, long bytes) {
    this.pointer = pointer;
    this.bytes = bytes;
    this.buffer = pointer.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
  }

  /** Allocates {@code bytes} bytes of pinned memory; the CUDA context must be current. */
  static PinnedHostBuffer allocate(long bytes) {
    if (bytes < 1 || bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pinned buffer size must be 1..2^31-1 bytes: " + bytes);
    }
    Pointer p = new Pointer();
    CudaCalls.check(JCudaDriver.cuMemAllocHost(p, bytes), "cuMemAllocHost(" + bytes + ")");
    return new PinnedHostBuffer(p, bytes);
  }

  /** The memory as a native-order byte buffer (position 0, limit {@link #bytes()}). */
  public ByteBuffer buffer() {
    return buffer.duplicate().order(ByteOrder.nativeOrder());
  }

  /** Size in bytes. */
  public long bytes() {
    return bytes;
  }

  Pointer pointer() {
    return pointer;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      JCudaDriver.cuMemFreeHost(pointer);
    }
  }
}
