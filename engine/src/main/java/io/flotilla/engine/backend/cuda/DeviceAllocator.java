package io.flotilla.engine.backend.cuda;

/**
 * Raw device memory: the one place where memory is really allocated and freed. The {@link
 * DeviceMemoryPool} sits on top so that steady-state steps never call it.
 *
 * @param <B> the allocator's handle type ({@code CUdeviceptr} on CUDA)
 */
public interface DeviceAllocator<B> {

  /**
   * Allocates {@code bytes} bytes.
   *
   * @throws OutOfDeviceMemoryException when the device has no room left
   */
  B allocate(long bytes);

  /** Frees a block returned by {@link #allocate}. */
  void free(B block);

  /** Thrown by {@link #allocate} when the device is out of memory. */
  final class OutOfDeviceMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception naming the request that failed. */
    public OutOfDeviceMemoryException(String message) {
      super(message);
    }
  }
}
