package io.flotilla.worker;

import dev.ludovic.netlib.blas.BLAS;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Measures single-precision matrix multiply throughput (GFLOP/s) with the BLAS implementation the
 * engine also uses: native OpenBLAS when installed, else the Java (Vector API) path.
 */
public final class SgemmBenchmark {

  /** The measurement: median GFLOP/s, number of timed runs and the BLAS implementation used. */
  public record Result(double gflops, int runs, String implementation) {}

  private SgemmBenchmark() {}

  /**
   * Multiplies two random {@code n x n} matrices once to warm up, then repeatedly for at least
   * {@code minDuration}; returns the median. Blocks the calling thread for about that long.
   */
  public static Result run(int n, Duration minDuration) {
    if (n < 1 || n > 8192) {
      throw new IllegalArgumentException("benchmark matrix-size must be in 1..8192, was " + n);
    }
    BLAS blas = BLAS.getInstance();
    Random random = new Random(1);
    float[] a = new float[n * n];
    float[] b = new float[n * n];
    float[] c = new float[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = random.nextFloat();
      b[i] = random.nextFloat();
    }
    blas.sgemm("N", "N", n, n, n, 1f, a, n, b, n, 0f, c, n);
    double flop = 2.0 * n * n * (double) n;
    List<Double> gflops = new ArrayList<>();
    long deadlineNs = System.nanoTime() + minDuration.toNanos();
    do {
      long t0 = System.nanoTime();
      blas.sgemm("N", "N", n, n, n, 1f, a, n, b, n, 0f, c, n);
      long elapsedNs = Math.max(1, System.nanoTime() - t0);
      gflops.add(flop / elapsedNs);
    } while (System.nanoTime() < deadlineNs || gflops.size() < 3);
    Collections.sort(gflops);
    return new Result(
        gflops.get(gflops.size() / 2), gflops.size(), blas.getClass().getSimpleName());
  }
}
