package io.flotilla.engine.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A caching pool of device memory over a {@link DeviceAllocator}: requests are rounded up to a size
 * class, released blocks are kept per class and handed out again, so a training loop that repeats
 * the same shapes allocates only during its first step.
 *
 * <p>Size classes: 256 bytes minimum, powers of two up to {@value #LARGE_THRESHOLD_BYTES} bytes,
 * above that multiples of {@value #LARGE_GRANULE_BYTES} bytes (bounds the waste of large tensors).
 * When an allocation fails for lack of memory, the pool frees its cache and tries once more. The
 * cache is capped at {@code maxCachedBytes}: a block released beyond the cap is freed.
 *
 * <p>Thread-safe (all methods synchronise on the pool).
 *
 * @param <B> the allocator's handle type
 */
public final class DeviceMemoryPool<B> implements AutoCloseable {
  /** Smallest size class in bytes. */
  public static final long MIN_BLOCK_BYTES = 256;

  /** Requests up to this size are rounded to a power of two. */
  public static final long LARGE_THRESHOLD_BYTES = 32L << 20;

  /** Requests above {@link #LARGE_THRESHOLD_BYTES} are rounded to a multiple of this. */
  public static final long LARGE_GRANULE_BYTES = 4L << 20;

  /** A block handed out by the pool. */
  public static final class Block<B> {
    private final B handle;
    private final long capacityBytes;
    private long requestedBytes;

    private Block(B handle, long capacityBytes) {
      this.handle = handle;
      this.capacityBytes = capacityBytes;
    }

    /** The allocator's handle. */
    public B handle() {
      return handle;
    }

    /** Size of the block's class, at least the requested size. */
    public long capacityBytes() {
      return capacityBytes;
    }

    /** The size most recently requested for this block. */
    public long requestedBytes() {
      return requestedBytes;
    }
  }

  /**
   * Counters of the pool.
   *
   * @param bytesInUse class bytes of blocks handed out and not yet released
   * @param bytesCached class bytes of released blocks kept for reuse
   * @param peakBytesInUse the highest {@code bytesInUse} seen
   * @param allocations calls to the allocator
   * @param reuses requests served from the cache
   * @param frees blocks given back to the allocator
   */
  public record Stats(
      long bytesInUse,
      long bytesCached,
      long peakBytesInUse,
      long allocations,
      long reuses,
      long frees) {}

  private final DeviceAllocator<B> allocator;
  private final long maxCachedBytes;
  private final Map<Long, ArrayDeque<Block<B>>> cache = new HashMap<>();
  private final Map<Block<B>, Boolean> inUse = new IdentityHashMap<>();
  private long bytesInUse;
  private long bytesCached;
  private long peakBytesInUse;
  private long allocations;
  private long reuses;
  private long frees;
  private boolean closed;

  /** A pool keeping at most {@code maxCachedBytes} of released blocks. */
  public DeviceMemoryPool(DeviceAllocator<B> allocator, long maxCachedBytes) {
    if (maxCachedBytes < 0) {
      throw new IllegalArgumentException("maxCachedBytes must be >= 0, was " + maxCachedBytes);
    }
    this.allocator = allocator;
    this.maxCachedBytes = maxCachedBytes;
  }

  /** The size class a request of {@code bytes} bytes is served from. */
  public static long sizeClass(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0, was " + bytes);
    }
    if (bytes <= MIN_BLOCK_BYTES) {
      return MIN_BLOCK_BYTES;
    }
    if (bytes <= LARGE_THRESHOLD_BYTES) {
      return Long.highestOneBit(bytes - 1) << 1;
    }
    return Math.ceilDiv(bytes, LARGE_GRANULE_BYTES) * LARGE_GRANULE_BYTES;
  }

  /** A block of at least {@code bytes} bytes, from the cache when one of its class is there. */
  public synchronized Block<B> acquire(long bytes) {
    if (closed) {
      throw new IllegalStateException("device memory pool is closed");
    }
    long cls = sizeClass(bytes);
    ArrayDeque<Block<B>> free = cache.get(cls);
    Block<B> block;
    if (free != null && !free.isEmpty()) {
      block = free.pop();
      bytesCached -= cls;
      reuses++;
    } else {
      block = new Block<>(allocateOrTrim(cls), cls);
      allocations++;
    }
    block.requestedBytes = bytes;
    inUse.put(block, Boolean.TRUE);
    bytesInUse += cls;
    peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
    return block;
  }

  private B allocateOrTrim(long cls) {
    try {
      return allocator.allocate(cls);
    } catch (DeviceAllocator.OutOfDeviceMemoryException e) {
      if (bytesCached == 0) {
        throw e;
      }
      trim();
      return allocator.allocate(cls);
    }
  }

  /** Returns a block to the pool; releasing a block twice or one of another pool is an error. */
  public synchronized void release(Block<B> block) {
    if (inUse.remove(block) == null) {
      throw new IllegalStateException(
          "block of " + block.capacityBytes + " bytes is not in use in this pool");
    }
    bytesInUse -= block.capacityBytes;
    if (closed || bytesCached + block.capacityBytes > maxCachedBytes) {
      allocator.free(block.handle);
      frees++;
      return;
    }
    cache.computeIfAbsent(block.capacityBytes, k -> new ArrayDeque<>()).push(block);
    bytesCached += block.capacityBytes;
  }

  /** Frees every cached block; blocks in use stay valid. */
  public synchronized void trim() {
    for (ArrayDeque<Block<B>> free : cache.values()) {
      for (Block<B> b : free) {
        allocator.free(b.handle);
        frees++;
      }
    }
    cache.clear();
    bytesCached = 0;
  }

  /** The current counters. */
  public synchronized Stats stats() {
    return new Stats(bytesInUse, bytesCached, peakBytesInUse, allocations, reuses, frees);
  }

  /**
   * Frees the cache; blocks still in use are freed when released ({@link Stats#bytesInUse} tells
   * how many bytes that is).
   */
  @Override
  public synchronized void close() {
    closed = true;
    trim();
  }
}
