package io.flotilla.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeviceMemoryPoolTest {

  /** An allocator over a fixed capacity that records every live block. */
  static final class TestingAllocator implements DeviceAllocator<Long> {
    final long capacityBytes;
    final Set<Long> live = new HashSet<>();
    final List<Long> sizes = new ArrayList<>();
    long usedBytes;
    long nextId;

    TestingAllocator(long capacityBytes) {
      this.capacityBytes = capacityBytes;
    }

    @Override
    public Long allocate(long bytes) {
      if (usedBytes + bytes > capacityBytes) {
        throw new OutOfDeviceMemoryException("out of memory for " + bytes);
      }
      usedBytes += bytes;
      long id = nextId++;
      live.add(id);
      sizes.add(bytes);
      return id;
    }

    @Override
    public void free(Long block) {
      assertThat(live.remove(block)).as("free of a live block %s", block).isTrue();
      usedBytes -= sizes.get(block.intValue());
    }
  }

  @Test
  void sizeClassesArePowersOfTwoThenLargeGranules() {
    assertThat(DeviceMemoryPool.sizeClass(0)).isEqualTo(256);
    assertThat(DeviceMemoryPool.sizeClass(1)).isEqualTo(256);
    assertThat(DeviceMemoryPool.sizeClass(256)).isEqualTo(256);
    assertThat(DeviceMemoryPool.sizeClass(257)).isEqualTo(512);
    assertThat(DeviceMemoryPool.sizeClass(4096)).isEqualTo(4096);
    assertThat(DeviceMemoryPool.sizeClass(4097)).isEqualTo(8192);
    assertThat(DeviceMemoryPool.sizeClass(32L << 20)).isEqualTo(32L << 20);
    assertThat(DeviceMemoryPool.sizeClass((32L << 20) + 1)).isEqualTo(36L << 20);
    assertThat(DeviceMemoryPool.sizeClass(100L << 20)).isEqualTo(100L << 20);
    assertThat(DeviceMemoryPool.sizeClass((100L << 20) + 1)).isEqualTo(104L << 20);
    assertThatThrownBy(() -> DeviceMemoryPool.sizeClass(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void repeatedStepsAllocateOnlyOnce() {
    TestingAllocator alloc = new TestingAllocator(1L << 30);
    DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(alloc, 1L << 30);
    long[] step = {1000, 4096, 300_000, 7};
    for (int s = 0; s < 5; s++) {
      List<DeviceMemoryPool.Block<Long>> held = new ArrayList<>();
      for (long bytes : step) {
        held.add(pool.acquire(bytes));
      }
      held.forEach(pool::release);
    }
    DeviceMemoryPool.Stats st = pool.stats();
    assertThat(st.allocations()).isEqualTo(4);
    assertThat(st.reuses()).isEqualTo(16);
    assertThat(st.bytesInUse()).isZero();
    assertThat(st.bytesCached()).isEqualTo(1024 + 4096 + 524_288 + 256);
    assertThat(st.peakBytesInUse()).isEqualTo(1024 + 4096 + 524_288 + 256);
    assertThat(alloc.live).hasSize(4);
  }

  @Test
  void bookkeepingFollowsAcquireAndRelease() {
    TestingAllocator alloc = new TestingAllocator(1L << 30);
    DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(alloc, 1L << 30);
    var a = pool.acquire(1000);
    var b = pool.acquire(1000);
    assertThat(a.capacityBytes()).isEqualTo(1024);
    assertThat(a.requestedBytes()).isEqualTo(1000);
    assertThat(pool.stats().bytesInUse()).isEqualTo(2048);
    pool.release(a);
    assertThat(pool.stats().bytesInUse()).isEqualTo(1024);
    assertThat(pool.stats().bytesCached()).isEqualTo(1024);
    var c = pool.acquire(600);
    assertThat(c.handle()).isEqualTo(a.handle());
    assertThat(c.requestedBytes()).isEqualTo(600);
    assertThat(pool.stats().bytesCached()).isZero();
    pool.release(b);
    pool.release(c);
    assertThatThrownBy(() -> pool.release(c))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not in use");
  }

  @Test
  void cacheIsCappedAndTrimmedAndClosed() {
    TestingAllocator alloc = new TestingAllocator(1L << 30);
    DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(alloc, 2048);
    var a = pool.acquire(1024);
    var b = pool.acquire(1024);
    var c = pool.acquire(1024);
    pool.release(a);
    pool.release(b);
    pool.release(c); // over the 2048-byte cap: freed at once
    assertThat(pool.stats().bytesCached()).isEqualTo(2048);
    assertThat(pool.stats().frees()).isEqualTo(1);
    assertThat(alloc.live).hasSize(2);
    pool.trim();
    assertThat(alloc.live).isEmpty();
    assertThat(pool.stats().bytesCached()).isZero();
    var d = pool.acquire(10);
    pool.close();
    assertThat(alloc.live).hasSize(1);
    pool.release(d); // released after close: freed, not cached
    assertThat(alloc.live).isEmpty();
    assertThatThrownBy(() -> pool.acquire(10)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void outOfMemoryFreesTheCacheAndRetriesOnce() {
    TestingAllocator alloc = new TestingAllocator(8192);
    DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(alloc, 1L << 20);
    var small = pool.acquire(4096);
    pool.release(small);
    var big = pool.acquire(8192); // needs the cached 4096 bytes back
    assertThat(big.capacityBytes()).isEqualTo(8192);
    assertThat(pool.stats().bytesCached()).isZero();
    assertThatThrownBy(() -> pool.acquire(256))
        .isInstanceOf(DeviceAllocator.OutOfDeviceMemoryException.class);
    assertThat(pool.stats().bytesInUse()).isEqualTo(8192);
  }
}
