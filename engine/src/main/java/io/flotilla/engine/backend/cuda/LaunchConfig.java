package io.flotilla.engine.backend.cuda;

/**
 * Grid and block sizes of one kernel launch, and the rules that compute them. Pure arithmetic, so
 * it is tested without a GPU.
 *
 * @param gridX blocks
 * @param blockX threads per block
 * @param sharedBytes dynamic shared memory per block
 */
public record LaunchConfig(int gridX, int blockX, int sharedBytes) {
  /** Threads per block of elementwise kernels. */
  public static final int ELEMENTWISE_BLOCK = 256;

  /** Upper bound on blocks of grid-stride kernels (enough to fill any current GPU). */
  public static final int MAX_GRID = 65_535;

  /** Largest block CUDA allows. */
  public static final int MAX_BLOCK = 1024;

  /** Threads in a warp. */
  public static final int WARP = 32;

  /** Fixed block count of {@code sum_squares_partial}: the host adds this many partials. */
  public static final int SUM_SQUARES_BLOCKS = 256;

  public LaunchConfig {
    if (gridX < 1 || blockX < 1 || blockX > MAX_BLOCK || sharedBytes < 0) {
      throw new IllegalArgumentException(
          "invalid launch " + gridX + " x " + blockX + " (" + sharedBytes + " B shared)");
    }
  }

  /** A grid-stride launch over {@code n} elements: one thread per element up to the grid cap. */
  public static LaunchConfig elementwise(long n) {
    long blocks = Math.max(1, Math.ceilDiv(n, ELEMENTWISE_BLOCK));
    return new LaunchConfig((int) Math.min(MAX_GRID, blocks), ELEMENTWISE_BLOCK, 0);
  }

  /** One thread per column, for kernels that walk rows in order per column. */
  public static LaunchConfig perColumn(int columns) {
    int block = Math.min(ELEMENTWISE_BLOCK, roundUpToWarp(Math.max(1, columns)));
    return new LaunchConfig(Math.max(1, Math.ceilDiv(columns, block)), block, 0);
  }

  /**
   * One block per row for reduction kernels: a power-of-two block no wider than the row (rounded up
   * to a warp) and at most {@link #MAX_BLOCK}, with one shared-memory slot of {@code elementBytes}
   * per thread.
   */
  public static LaunchConfig perRow(int rows, int columns, int elementBytes) {
    int block = Math.min(MAX_BLOCK, nextPowerOfTwo(Math.max(WARP, columns)));
    return new LaunchConfig(Math.max(1, rows), block, block * elementBytes);
  }

  /** The launch of {@code sum_squares_partial}. */
  public static LaunchConfig sumOfSquares() {
    return new LaunchConfig(SUM_SQUARES_BLOCKS, ELEMENTWISE_BLOCK, ELEMENTWISE_BLOCK * 8);
  }

  static int nextPowerOfTwo(int v) {
    if (v <= 1) {
      return 1;
    }
    return Integer.highestOneBit(v - 1) << 1;
  }

  static int roundUpToWarp(int v) {
    return Math.ceilDiv(v, WARP) * WARP;
  }
}
