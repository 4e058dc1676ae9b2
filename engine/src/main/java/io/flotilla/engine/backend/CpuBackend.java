package io.flotilla.engine.backend;

import dev.ludovic.netlib.blas.BLAS;
import io.flotilla.engine.tensor.Tensor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * CPU backend: matrix products through {@code dev.ludovic.netlib} BLAS (OpenBLAS when the native
 * library is installed, the Java Vector API otherwise), other kernels as plain Java loops split
 * across a fixed thread pool.
 *
 * <p>Every output element is computed by exactly one task in a fixed sequential order, and
 * reductions across rows (bias and LayerNorm gradients, embedding scatter) are split by columns,
 * never by rows, so results are bit-identical for any thread count.
 */
public final class CpuBackend implements ComputeBackend {
  private static final int COLUMN_BLOCK = 32;

  private final BLAS blas;
  private final int threads;
  private final ExecutorService pool;

  /** A backend using {@code threads} threads for its own kernels (at least 1). */
  public CpuBackend(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.blas = BLAS.getInstance();
    this.threads = threads;
    this.pool =
        threads == 1
            ? null
            : Executors.newFixedThreadPool(
                threads - 1,
                r -> {
                  Thread th = new Thread(r, "flotilla-cpu-kernel");
                  th.setDaemon(true);
                  return th;
                });
  }

  /** A backend with one thread per available processor. */
  public static CpuBackend withAllCores() {
    return new CpuBackend(Runtime.getRuntime().availableProcessors());
  }

  /** Name of the BLAS implementation in use (native OpenBLAS or the Java fallback). */
  public String blasName() {
    String name = blas.getClass().getSimpleName();
    return name.contains("JNI") || name.contains("Native") ? "native:" + name : "java:" + name;
  }

  @Override
  public String description() {
    return "cpu(" + blasName() + ", " + threads + " threads)";
  }

  /**
   * {@code cpu-<BLAS class>-<arch>[-f<family>m<model>]-java<feature>}, e.g. {@code
   * cpu-JNIBLAS-amd64-f6m85-java25}: results depend on the BLAS build, the CPU kernels OpenBLAS
   * picks for the processor (its family and model, read from {@code /proc/cpuinfo} where there is
   * one), and the JVM's {@code Math.exp}/{@code Math.sqrt} intrinsics, never on the thread count.
   */
  @Override
  public String determinismClass() {
    return "cpu-"
        + blas.getClass().getSimpleName()
        + "-"
        + System.getProperty("os.arch")
        + CPU_MODEL
        + "-java"
        + Runtime.version().feature();
  }

  private static final String CPU_MODEL = cpuModel();

  /** {@code -f<family>m<model>} of the first processor in {@code /proc/cpuinfo}, or "". */
  private static String cpuModel() {
    try {
      String family = null;
      String model = null;
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
        String[] kv = line.split(":", 2);
        if (kv.length < 2) {
          continue;
        }
        String key = kv[0].strip();
        if (key.equals("cpu family") && family == null) {
          family = kv[1].strip();
        } else if (key.equals("model") && model == null) {
          model = kv[1].strip();
        }
        if (family != null && model != null) {
          return family.matches("\\d+") && model.matches("\\d+") ? "-f" + family + "m" + model : "";
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux, or no access: the class then names the architecture only
    }
    return "";
  }

  /** Number of threads used by the elementwise kernels. */
  public int threads() {
    return threads;
  }

  @FunctionalInterface
  interface RangeBody {
    void run(int start, int end);
  }

  /** Runs {@code body} over [0, n) in up to {@code threads} contiguous chunks. */
  void parallelFor(int n, int minPerTask, RangeBody body) {
    int tasks = Math.min(threads, Math.max(1, n / Math.max(1, minPerTask)));
    if (tasks <= 1) {
      body.run(0, n);
      return;
    }
    Future<?>[] futures = new Future<?>[tasks - 1];
    for (int t = 1; t < tasks; t++) {
      int start = (int) ((long) n * t / tasks);
      int end = (int) ((long) n * (t + 1) / tasks);
      futures[t - 1] = pool.submit(() -> body.run(start, end));
    }
    body.run(0, (int) ((long) n / tasks));
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while computing", e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw new IllegalStateException(e.getCause());
      }
    }
  }

  @Override
  public void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Tensor a,
      int aOffset,
      int lda,
      Tensor b,
      int bOffset,
      int ldb,
      float beta,
      Tensor c,
      int cOffset,
      int ldc) {
    gemmRaw(
        transA, transB, m, n, k, alpha, a.data(), aOffset, lda, b.data(), bOffset, ldb, beta,
        c.data(), cOffset, ldc);
  }

  /** Row-major gemm mapped onto column-major BLAS as {@code C^T = op(B)^T op(A)^T}. */
  private void gemmRaw(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOffset,
      int lda,
      float[] b,
      int bOffset,
      int ldb,
      float beta,
      float[] c,
      int cOffset,
      int ldc) {
    if (m == 0 || n == 0) {
      return;
    }
    blas.sgemm(
        transB ? "T" : "N",
        transA ? "T" : "N",
        n,
        m,
        k,
        alpha,
        b,
        bOffset,
        ldb,
        a,
        aOffset,
        lda,
        beta,
        c,
        cOffset,
        ldc);
  }

  @Override
  public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y, int n, int in, int out) {
    float[] yd = y.data();
    if (bias != null) {
      float[] bd = bias.data();
      parallelFor(
          n,
          64,
          (s, e) -> {
            for (int r = s; r < e; r++) {
              System.arraycopy(bd, 0, yd, r * out, out);
            }
          });
    }
    gemmRaw(
        false,
        false,
        n,
        out,
        in,
        1f,
        x.data(),
        0,
        in,
        w.data(),
        0,
        out,
        bias != null ? 1f : 0f,
        yd,
        0,
        out);
  }

  @Override
  public void linearBackward(
      Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, int n, int in, int out) {
    // dW[in, out] += x^T[in, n] dy[n, out]
    gemmRaw(true, false, in, out, n, 1f, x.data(), 0, in, dy.data(), 0, out, 1f, dw.data(), 0, out);
    if (db != null) {
      sumRowsInto(dy.data(), db.data(), n, out);
    }
    if (dx != null) {
      // dx[n, in] = dy[n, out] w^T[out, in]
      gemmRaw(
          false, true, n, in, out, 1f, dy.data(), 0, out, w.data(), 0, out, 0f, dx.data(), 0, in);
    }
  }

  /** {@code acc[j] += sum_r src[r, j]}, rows summed in order, split by column blocks. */
  private void sumRowsInto(float[] src, float[] acc, int n, int c) {
    int blocks = (c + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    parallelFor(
        blocks,
        1,
        (s, e) -> {
          int j0 = s * COLUMN_BLOCK;
          int j1 = Math.min(c, e * COLUMN_BLOCK);
          for (int r = 0; r < n; r++) {
            int row = r * c;
            for (int j = j0; j < j1; j++) {
              acc[j] += src[row + j];
            }
          }
        });
  }

  @Override
  public void layerNormForward(
      Tensor x,
      Tensor gamma,
      Tensor beta,
      Tensor y,
      Tensor mean,
      Tensor rstd,
      int n,
      int c,
      float eps) {
    float[] xd = x.data();
    float[] yd = y.data();
    float[] g = gamma.data();
    float[] bt = beta.data();
    float[] md = mean.data();
    float[] rd = rstd.data();
    parallelFor(
        n,
        16,
        (s, e) -> {
          for (int r = s; r < e; r++) {
            int off = r * c;
            float sum = 0f;
            for (int j = 0; j < c; j++) {
              sum += xd[off + j];
            }
            float mu = sum / c;
            float var = 0f;
            for (int j = 0; j < c; j++) {
              float d = xd[off + j] - mu;
              var += d * d;
            }
            var /= c;
            float rs = (float) (1.0 / Math.sqrt(var + eps));
            md[r] = mu;
            rd[r] = rs;
            for (int j = 0; j < c; j++) {
              yd[off + j] = (xd[off + j] - mu) * rs * g[j] + bt[j];
            }
          }
        });
  }

  @Override
  public void layerNormBackward(
      Tensor x,
      Tensor gamma,
      Tensor mean,
      Tensor rstd,
      Tensor dy,
      Tensor dx,
      Tensor dgamma,
      Tensor dbeta,
      int n,
      int c) {
    float[] xd = x.data();
    float[] g = gamma.data();
    float[] md = mean.data();
    float[] rd = rstd.data();
    float[] dyd = dy.data();
    float[] dxd = dx.data();
    parallelFor(
        n,
        16,
        (s, e) -> {
          for (int r = s; r < e; r++) {
            int off = r * c;
            float mu = md[r];
            float rs = rd[r];
            float sumDxhat = 0f;
            float sumDxhatXhat = 0f;
            for (int j = 0; j < c; j++) {
              float xhat = (xd[off + j] - mu) * rs;
              float dxhat = dyd[off + j] * g[j];
              sumDxhat += dxhat;
              sumDxhatXhat += dxhat * xhat;
            }
            float meanDxhat = sumDxhat / c;
            float meanDxhatXhat = sumDxhatXhat / c;
            for (int j = 0; j < c; j++) {
              float xhat = (xd[off + j] - mu) * rs;
              float dxhat = dyd[off + j] * g[j];
              dxd[off + j] = rs * (dxhat - meanDxhat - xhat * meanDxhatXhat);
            }
          }
        });
    float[] dg = dgamma.data();
    float[] dbt = dbeta.data();
    int blocks = (c + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    parallelFor(
        blocks,
        1,
        (s, e) -> {
          int j0 = s * COLUMN_BLOCK;
          int j1 = Math.min(c, e * COLUMN_BLOCK);
          for (int r = 0; r < n; r++) {
            int off = r * c;
            float mu = md[r];
            float rs = rd[r];
            for (int j = j0; j < j1; j++) {
              float d = dyd[off + j];
              dg[j] += d * ((xd[off + j] - mu) * rs);
              dbt[j] += d;
            }
          }
        });
  }

  private static final double GELU_K = Math.sqrt(2.0 / Math.PI);
  private static final double GELU_C = 0.044715;

  private static double tanh(double u) {
    // tanh through exp: faster than Math.tanh, and deterministic (StrictMath-free but a pure
    // function of its input on one JVM build).
    if (u > 20) {
      return 1.0;
    }
    if (u < -20) {
      return -1.0;
    }
    double e2 = Math.exp(2 * u);
    return (e2 - 1) / (e2 + 1);
  }

  @Override
  public void geluForward(Tensor x, Tensor y, int n) {
    float[] xd = x.data();
    float[] yd = y.data();
    parallelFor(
        n,
        4096,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            double v = xd[i];
            double t = tanh(GELU_K * (v + GELU_C * v * v * v));
            yd[i] = (float) (0.5 * v * (1 + t));
          }
        });
  }

  @Override
  public void geluBackward(Tensor x, Tensor dy, Tensor dx, int n) {
    float[] xd = x.data();
    float[] dyd = dy.data();
    float[] dxd = dx.data();
    parallelFor(
        n,
        4096,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            double v = xd[i];
            double t = tanh(GELU_K * (v + GELU_C * v * v * v));
            double d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_K * (1 + 3 * GELU_C * v * v);
            dxd[i] = (float) (dyd[i] * d);
          }
        });
  }

  @Override
  public void reluForward(Tensor x, Tensor y, int n) {
    float[] xd = x.data();
    float[] yd = y.data();
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            yd[i] = xd[i] > 0f ? xd[i] : 0f;
          }
        });
  }

  @Override
  public void reluBackward(Tensor x, Tensor dy, Tensor dx, int n) {
    float[] xd = x.data();
    float[] dyd = dy.data();
    float[] dxd = dx.data();
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            dxd[i] = xd[i] > 0f ? dyd[i] : 0f;
          }
        });
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out, int n) {
    float[] ad = a.data();
    float[] bd = b.data();
    float[] od = out.data();
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            od[i] = ad[i] + bd[i];
          }
        });
  }

  @Override
  public void scale(Tensor x, float scale, Tensor out, int n) {
    float[] xd = x.data();
    float[] od = out.data();
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            od[i] = xd[i] * scale;
          }
        });
  }

  /**
   * SplitMix64 finaliser: a counter-based random function, so any thread (or GPU kernel) can draw
   * element i. The CUDA backend's dropout kernel uses the same function.
   */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  @Override
  public void dropoutForward(Tensor x, Tensor mask, Tensor y, int n, float p, long seed) {
    float[] xd = x.data();
    float[] md = mask.data();
    float[] yd = y.data();
    float keepScale = 1f / (1f - p);
    long seedMix = mix(seed);
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            double u = (mix(seedMix + i * 0x9e3779b97f4a7c15L) >>> 11) * 0x1.0p-53;
            float mk = u < p ? 0f : keepScale;
            md[i] = mk;
            yd[i] = xd[i] * mk;
          }
        });
  }

  @Override
  public void dropoutBackward(Tensor mask, Tensor dy, Tensor dx, int n) {
    float[] md = mask.data();
    float[] dyd = dy.data();
    float[] dxd = dx.data();
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            dxd[i] = dyd[i] * md[i];
          }
        });
  }

  @Override
  public void embeddingForward(
      Tensor tokens, Tensor wte, Tensor wpe, Tensor out, int b, int t, int c) {
    float[] tok = tokens.data();
    float[] we = wte.data();
    float[] pe = wpe.data();
    float[] od = out.data();
    checkTokens(tokens, b * t, wte.dim(0));
    parallelFor(
        b * t,
        32,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            int id = (int) tok[i];
            int pos = i % t;
            int o = i * c;
            int wo = id * c;
            int po = pos * c;
            for (int j = 0; j < c; j++) {
              od[o + j] = we[wo + j] + pe[po + j];
            }
          }
        });
  }

  /**
   * Checks that the first {@code count} token ids are integers in {@code [0, vocab)}.
   *
   * @throws IllegalArgumentException naming the first bad id and its position
   */
  public static void checkTokens(Tensor tokens, int count, int vocab) {
    float[] tok = tokens.data();
    for (int i = 0; i < count; i++) {
      int id = (int) tok[i];
      if (id < 0 || id >= vocab || id != tok[i]) {
        throw new IllegalArgumentException(
            "token id " + tok[i] + " at position " + i + " outside vocabulary [0, " + vocab + ")");
      }
    }
  }

  @Override
  public void embeddingBackward(
      Tensor tokens, Tensor dout, Tensor dwte, Tensor dwpe, int b, int t, int c) {
    float[] tok = tokens.data();
    float[] dd = dout.data();
    float[] dwe = dwte.data();
    float[] dpe = dwpe.data();
    int blocks = (c + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    parallelFor(
        blocks,
        1,
        (s, e) -> {
          int j0 = s * COLUMN_BLOCK;
          int j1 = Math.min(c, e * COLUMN_BLOCK);
          for (int i = 0; i < b * t; i++) {
            int id = (int) tok[i];
            int o = i * c;
            int wo = id * c;
            int po = (i % t) * c;
            for (int j = j0; j < j1; j++) {
              float g = dd[o + j];
              dwe[wo + j] += g;
              dpe[po + j] += g;
            }
          }
        });
  }

  @Override
  public void attentionForward(Tensor qkv, Tensor att, Tensor y, int b, int t, int c, int h) {
    int hd = c / h;
    float scale = (float) (1.0 / Math.sqrt(hd));
    float[] q = qkv.data();
    float[] a = att.data();
    float[] yd = y.data();
    int c3 = 3 * c;
    parallelFor(
        b * h,
        1,
        (s, e) -> {
          for (int bh = s; bh < e; bh++) {
            int bi = bh / h;
            int hi = bh % h;
            int qOff = bi * t * c3 + hi * hd;
            int kOff = qOff + c;
            int vOff = qOff + 2 * c;
            int aOff = bh * t * t;
            // scores[t, t] = scale * Q K^T
            gemmRaw(false, true, t, t, hd, scale, q, qOff, c3, q, kOff, c3, 0f, a, aOff, t);
            for (int i = 0; i < t; i++) {
              int row = aOff + i * t;
              float max = Float.NEGATIVE_INFINITY;
              for (int j = 0; j <= i; j++) {
                max = Math.max(max, a[row + j]);
              }
              float sum = 0f;
              for (int j = 0; j <= i; j++) {
                float ev = (float) Math.exp(a[row + j] - max);
                a[row + j] = ev;
                sum += ev;
              }
              float inv = 1f / sum;
              for (int j = 0; j <= i; j++) {
                a[row + j] *= inv;
              }
              for (int j = i + 1; j < t; j++) {
                a[row + j] = 0f;
              }
            }
            // y[t, hd] = P V
            gemmRaw(
                false,
                false,
                t,
                hd,
                t,
                1f,
                a,
                aOff,
                t,
                q,
                vOff,
                c3,
                0f,
                yd,
                bi * t * c + hi * hd,
                c);
          }
        });
  }

  @Override
  public void attentionBackward(
      Tensor qkv, Tensor att, Tensor dy, Tensor datt, Tensor dqkv, int b, int t, int c, int h) {
    int hd = c / h;
    float scale = (float) (1.0 / Math.sqrt(hd));
    float[] q = qkv.data();
    float[] a = att.data();
    float[] da = datt.data();
    float[] dyd = dy.data();
    float[] dq = dqkv.data();
    int c3 = 3 * c;
    parallelFor(
        b * h,
        1,
        (s, e) -> {
          for (int bh = s; bh < e; bh++) {
            int bi = bh / h;
            int hi = bh % h;
            int qOff = bi * t * c3 + hi * hd;
            int kOff = qOff + c;
            int vOff = qOff + 2 * c;
            int aOff = bh * t * t;
            int yOff = bi * t * c + hi * hd;
            // dP[t, t] = dY V^T
            gemmRaw(false, true, t, t, hd, 1f, dyd, yOff, c, q, vOff, c3, 0f, da, aOff, t);
            // dV[t, hd] = P^T dY
            gemmRaw(true, false, t, hd, t, 1f, a, aOff, t, dyd, yOff, c, 0f, dq, vOff, c3);
            // dS = P * (dP - sum_j dP*P), scaled for the score scale
            for (int i = 0; i < t; i++) {
              int row = aOff + i * t;
              float dot = 0f;
              for (int j = 0; j <= i; j++) {
                dot += a[row + j] * da[row + j];
              }
              for (int j = 0; j <= i; j++) {
                da[row + j] = a[row + j] * (da[row + j] - dot) * scale;
              }
              for (int j = i + 1; j < t; j++) {
                da[row + j] = 0f;
              }
            }
            // dQ = dS K ; dK = dS^T Q
            gemmRaw(false, false, t, hd, t, 1f, da, aOff, t, q, kOff, c3, 0f, dq, qOff, c3);
            gemmRaw(true, false, t, hd, t, 1f, da, aOff, t, q, qOff, c3, 0f, dq, kOff, c3);
          }
        });
  }

  @Override
  public void crossEntropy(
      Tensor logits,
      Tensor targets,
      Tensor rowLoss,
      Tensor dlogits,
      int n,
      int v,
      float gradScale) {
    float[] z = logits.data();
    float[] tg = targets.data();
    float[] rl = rowLoss.data();
    float[] dz = dlogits.data();
    parallelFor(
        n,
        8,
        (s, e) -> {
          for (int r = s; r < e; r++) {
            int off = r * v;
            int target = (int) tg[r];
            if (target < 0) {
              rl[r] = 0f;
              java.util.Arrays.fill(dz, off, off + v, 0f);
              continue;
            }
            if (target >= v) {
              throw new IllegalArgumentException(
                  "target " + target + " in row " + r + " outside vocabulary [0, " + v + ")");
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
              max = Math.max(max, z[off + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
              sum += Math.exp(z[off + j] - max);
            }
            double lse = max + Math.log(sum);
            rl[r] = (float) (lse - z[off + target]);
            for (int j = 0; j < v; j++) {
              double p = Math.exp(z[off + j] - lse);
              dz[off + j] = (float) ((p - (j == target ? 1.0 : 0.0)) * gradScale);
            }
          }
        });
  }

  @Override
  public double sumOfSquares(Tensor x, int n) {
    float[] xd = x.data();
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double d = xd[i];
      sum += d * d;
    }
    return sum;
  }

  @Override
  public void adamw(
      Tensor param,
      Tensor grad,
      Tensor m,
      Tensor v,
      int n,
      float lr,
      float beta1,
      float beta2,
      float eps,
      float weightDecay,
      int step) {
    float[] p = param.data();
    float[] g = grad.data();
    float[] md = m.data();
    float[] vd = v.data();
    float decay = 1f - lr * weightDecay;
    float bc1 = (float) (1 - Math.pow(beta1, step));
    float bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
    float stepSize = lr / bc1;
    parallelFor(
        n,
        8192,
        (s, e) -> {
          for (int i = s; i < e; i++) {
            float gi = g[i];
            float mi = md[i] * beta1 + (1 - beta1) * gi;
            float vi = vd[i] * beta2 + (1 - beta2) * gi * gi;
            md[i] = mi;
            vd[i] = vi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            p[i] = p[i] * decay - stepSize * mi / denom;
          }
        });
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
