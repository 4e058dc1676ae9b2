package io.flotilla.worker.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorBufferPoolTest {
  private static final int SIZE = 128 * 1024;

  @Test
  void reusesAReleasedBufferOfExactlyTheRequestedSize() {
    TensorBufferPool pool = new TensorBufferPool(1024 * 1024);
    ByteBuffer first = pool.acquire(SIZE);
    first.position(10).limit(20).order(ByteOrder.BIG_ENDIAN);
    pool.release(first);

    assertThat(pool.acquire(SIZE + 32)).isNotSameAs(first);
    ByteBuffer again = pool.acquire(SIZE);
    assertThat(again).isSameAs(first);
    assertThat(again.position()).isZero();
    assertThat(again.limit()).isEqualTo(SIZE);
    assertThat(again.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(pool.freeBytes()).isZero();
  }

  @Test
  void dropsTheLeastRecentlyReleasedBeyondItsCapacity() {
    TensorBufferPool pool = new TensorBufferPool(2L * SIZE);
    ByteBuffer oldest = pool.acquire(SIZE);
    ByteBuffer middle = pool.acquire(SIZE);
    ByteBuffer newest = pool.acquire(SIZE);
    pool.release(oldest);
    pool.release(middle);
    pool.release(newest);

    assertThat(pool.freeBytes()).isEqualTo(2L * SIZE);
    assertThat(pool.acquire(SIZE)).isSameAs(newest);
    assertThat(pool.acquire(SIZE)).isSameAs(middle);
    assertThat(pool.acquire(SIZE)).isNotSameAs(oldest);
  }

  @Test
  void keepsNothingWhenDisabledOrForSmallTensors() {
    TensorBufferPool disabled = new TensorBufferPool(0);
    ByteBuffer big = disabled.acquire(SIZE);
    disabled.release(big);
    assertThat(disabled.acquire(SIZE)).isNotSameAs(big);

    TensorBufferPool pool = new TensorBufferPool(1024 * 1024);
    ByteBuffer small = pool.acquire(TensorBufferPool.MIN_POOLED_BYTES - 1);
    pool.release(small);
    assertThat(pool.freeBytes()).isZero();
  }
}
