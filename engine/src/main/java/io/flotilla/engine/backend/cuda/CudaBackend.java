package io.flotilla.engine.backend.cuda;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;
import jcuda.runtime.cudaStream_t;

/**
 * The CUDA backend: matrix products through cuBLAS (FP32 or TF32), every other layer operation as a
 * kernel from {@link KernelSources} compiled at start by NVRTC, device memory from a {@link
 * DeviceMemoryPool}, host transfers through a pinned staging buffer on a copy stream that the
 * compute stream waits on by event.
 *
 * <p>Tensors live in host memory ({@link Tensor} wraps a {@code float[]}), so every operation
 * uploads its inputs, computes, and downloads its outputs; the pool makes that free of {@code
 * cudaMalloc} after the first step, but the PCIe traffic remains. Keeping activations and
 * parameters resident on the device needs device-backed tensors, which the engine does not have
 * yet.
 *
 * <p>Determinism: cuBLAS gives bit-identical results on GPUs of the same architecture and SM count
 * with the same library version, and every kernel reduces in a fixed order, so two runs with the
 * same {@link #determinismClass()} are bit-identical; across classes results agree within the
 * tolerances of docs/gpu.md.
 *
 * <p>Not thread-safe: one backend per stage executor, like {@link CpuBackend}.
 */
public final class CudaBackend implements ComputeBackend {
  private static final long FLOAT = Sizeof.FLOAT;
  private static final long INITIAL_STAGING_BYTES = 4L << 20;

  /**
   * How to start the backend.
   *
   * @param device device ordinal
   * @param precision matrix-product precision
   * @param maxCachedBytes upper bound on released device memory the pool keeps for reuse
   */
  public record Options(int device, Precision precision, long maxCachedBytes) {
    /** Device 0, the given precision, a pool cache of up to 4 GiB. */
    public static Options defaults(Precision precision) {
      return new Options(0, precision, 4L << 30);
    }
  }

  private final CudaDeviceInfo device;
  private final Precision precision;
  private final CUdevice cuDevice;
  private final CUcontext context;
  private final CUmodule module;
  private final Map<String, CUfunction> functions = new HashMap<>();
  private final cublasHandle cublas;
  private final int cublasVersion;
  private final CUstream computeStream;
  private final CUstream copyStream;
  private final CUevent uploadsDone;
  private final DeviceMemoryPool<CUdeviceptr> pool;
  private PinnedHostBuffer staging;
  private boolean closed;

  private CudaBackend(Options options, CudaDeviceInfo device) {
    this.device = device;
    this.precision = options.precision();
    this.cuDevice = new CUdevice();
    CudaCalls.check(JCudaDriver.cuDeviceGet(cuDevice, options.device()), "cuDeviceGet");
    // The primary context is the one the runtime API (and so cuBLAS) uses: sharing it lets device
    // pointers and streams pass between the driver API and cuBLAS.
    this.context = new CUcontext();
    CudaCalls.check(
        JCudaDriver.cuDevicePrimaryCtxRetain(context, cuDevice), "cuDevicePrimaryCtxRetain");
    CudaCalls.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    this.module = compileKernels(device);
    for (String name : KernelSources.SIGNATURES.keySet()) {
      CUfunction f = new CUfunction();
      CudaCalls.check(
          JCudaDriver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
      functions.put(name, f);
    }
    this.computeStream = new CUstream();
    this.copyStream = new CUstream();
    CudaCalls.check(JCudaDriver.cuStreamCreate(computeStream, 0), "cuStreamCreate");
    CudaCalls.check(JCudaDriver.cuStreamCreate(copyStream, 0), "cuStreamCreate");
    this.uploadsDone = new CUevent();
    CudaCalls.check(JCudaDriver.cuEventCreate(uploadsDone, 0), "cuEventCreate");
    this.cublas = new cublasHandle();
    CudaCalls.checkCublas(JCublas2.cublasCreate(cublas), "cublasCreate");
    CudaCalls.checkCublas(
        JCublas2.cublasSetStream(cublas, new cudaStream_t(computeStream)), "cublasSetStream");
    CudaCalls.checkCublas(
        JCublas2.cublasSetMathMode(
            cublas,
            precision == Precision.TF32
                ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH
                : cublasMath.CUBLAS_PEDANTIC_MATH),
        "cublasSetMathMode");
    int[] version = new int[1];
    CudaCalls.checkCublas(JCublas2.cublasGetVersion(cublas, version), "cublasGetVersion");
    this.cublasVersion = version[0];
    this.pool = new DeviceMemoryPool<>(new CudaAllocator(), options.maxCachedBytes());
    this.staging = PinnedHostBuffer.allocate(INITIAL_STAGING_BYTES);
  }

  /**
   * Starts the backend on a device.
   *
   * @throws IllegalStateException when CUDA is not usable, with the probe's reason
   */
  public static CudaBackend create(Options options) {
    CudaProbe.Result probe = CudaProbe.probeOnce();
    if (!probe.available()) {
      throw new IllegalStateException("CUDA is not usable: " + probe.reason());
    }
    CudaDeviceInfo info =
        options.device() == probe.device().index()
            ? probe.device()
            : CudaProbe.describe(options.device());
    try {
      return new CudaBackend(options, info);
    } catch (RuntimeException | Error e) {
      // A half-built backend holds the primary context: release it so a CPU fallback leaves the
      // GPU as it found it.
      CUdevice dev = new CUdevice();
      if (JCudaDriver.cuDeviceGet(dev, options.device()) == CUresult.CUDA_SUCCESS) {
        JCudaDriver.cuDevicePrimaryCtxRelease(dev);
      }
      throw e;
    }
  }

  /** Compiles {@link KernelSources} with NVRTC for the device and loads the PTX. */
  static CUmodule compileKernels(CudaDeviceInfo device) {
    String ptx = compileToPtx(device.computeMajor(), device.computeMinor());
    CUmodule module = new CUmodule();
    CudaCalls.check(JCudaDriver.cuModuleLoadData(module, ptx), "cuModuleLoadData");
    return module;
  }

  /**
   * Compiles the kernel source to PTX for compute capability {@code major.minor}; needs only the
   * NVRTC library, no GPU.
   *
   * @throws IllegalStateException with NVRTC's log when the source does not compile
   */
  public static String compileToPtx(int major, int minor) {
    nvrtcProgram program = new nvrtcProgram();
    CudaCalls.checkNvrtc(
        JNvrtc.nvrtcCreateProgram(
            program, KernelSources.source(), KernelSources.RESOURCE, 0, null, null),
        "nvrtcCreateProgram");
    try {
      String[] options = KernelSources.compileOptions(major, minor);
      int rc = JNvrtc.nvrtcCompileProgram(program, options.length, options);
      if (rc != jcuda.nvrtc.nvrtcResult.NVRTC_SUCCESS) {
        String[] log = new String[1];
        JNvrtc.nvrtcGetProgramLog(program, log);
        throw new IllegalStateException(
            "NVRTC could not compile "
                + KernelSources.RESOURCE
                + " for compute_"
                + major
                + minor
                + ": "
                + jcuda.nvrtc.nvrtcResult.stringFor(rc)
                + "\n"
                + log[0]);
      }
      String[] ptx = new String[1];
      CudaCalls.checkNvrtc(JNvrtc.nvrtcGetPTX(program, ptx), "nvrtcGetPTX");
      return ptx[0];
    } finally {
      JNvrtc.nvrtcDestroyProgram(program);
    }
  }

  /** The device this backend computes on. */
  public CudaDeviceInfo device() {
    return device;
  }

  /** The matrix-product precision. */
  public Precision precision() {
    return precision;
  }

  /** Counters of the device-memory pool. */
  public DeviceMemoryPool.Stats memoryStats() {
    return pool.stats();
  }

  @Override
  public String description() {
    return "cuda(" + device + ", " + precision.id() + ", cuBLAS " + cublasVersion + ")";
  }

  @Override
  public String determinismClass() {
    return determinismClass(device, cublasVersion, precision);
  }

  /**
   * {@code cuda-sm90-132sm-cublas120603-tf32}: cuBLAS is bit-reproducible only for the same
   * architecture, SM count and library version, and the precision changes every product.
   */
  public static String determinismClass(CudaDeviceInfo device, int cublasVersion, Precision p) {
    return String.format(
        Locale.ROOT,
        "cuda-%s-%dsm-cublas%d-%s",
        device.smName(),
        device.multiprocessors(),
        cublasVersion,
        p.id());
  }

  /** Pinned host memory for transfers to and from this GPU (e.g. data-plane tensors). */
  public PinnedHostBuffer allocatePinned(long bytes) {
    makeCurrent();
    return PinnedHostBuffer.allocate(bytes);
  }

  /**
   * Measures sgemm throughput on device-resident {@code n x n} matrices (no host copies) for at
   * least {@code minNanos}, in TFLOP/s.
   */
  public double measureSgemmTflops(int n, long minNanos) {
    makeCurrent();
    long bytes = (long) n * n * FLOAT;
    var a = pool.acquire(bytes);
    var b = pool.acquire(bytes);
    var c = pool.acquire(bytes);
    try {
      CudaCalls.check(
          JCudaDriver.cuMemsetD32Async(
              a.handle(), Float.floatToIntBits(0.5f), (long) n * n, computeStream),
          "cuMemsetD32Async");
      CudaCalls.check(
          JCudaDriver.cuMemsetD32Async(
              b.handle(), Float.floatToIntBits(0.25f), (long) n * n, computeStream),
          "cuMemsetD32Async");
      sgemm(false, false, n, n, n, 1f, a.handle(), n, b.handle(), n, 0f, c.handle(), n);
      synchronize();
      long reps = 0;
      long t0 = System.nanoTime();
      long elapsed;
      do {
        for (int i = 0; i < 10; i++) {
          sgemm(false, false, n, n, n, 1f, a.handle(), n, b.handle(), n, 0f, c.handle(), n);
        }
        synchronize();
        reps += 10;
        elapsed = System.nanoTime() - t0;
      } while (elapsed < minNanos);
      return 2.0 * n * n * (double) n * reps / (elapsed / 1e9) / 1e12;
    } finally {
      pool.release(a);
      pool.release(b);
      pool.release(c);
    }
  }

  private void makeCurrent() {
    if (closed) {
      throw new IllegalStateException("CUDA backend is closed");
    }
    CudaCalls.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  private void synchronize() {
    CudaCalls.check(JCudaDriver.cuStreamSynchronize(computeStream), "cuStreamSynchronize");
  }

  /** Device memory through {@code cuMemAlloc}/{@code cuMemFree}. */
  private static final class CudaAllocator implements DeviceAllocator<CUdeviceptr> {
    @Override
    public CUdeviceptr allocate(long bytes) {
      CUdeviceptr p = new CUdeviceptr();
      int rc = JCudaDriver.cuMemAlloc(p, bytes);
      if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
        throw new OutOfDeviceMemoryException("cuMemAlloc(" + bytes + "): out of device memory");
      }
      CudaCalls.check(rc, "cuMemAlloc(" + bytes + ")");
      return p;
    }

    @Override
    public void free(CUdeviceptr block) {
      CudaCalls.check(JCudaDriver.cuMemFree(block), "cuMemFree");
    }
  }

  /**
   * The transfers of one operation: uploads go through the pinned staging buffer on the copy
   * stream, {@link #compute()} makes the compute stream wait for them, {@link #finish()} queues the
   * downloads on the compute stream and waits, {@link #close()} returns every block to the pool
   * (also when the operation failed half-way).
   */
  private final class Frame implements AutoCloseable {
    private final List<DeviceMemoryPool.Block<CUdeviceptr>> blocks = new ArrayList<>();
    private final List<Download> downloads = new ArrayList<>();
    private long stagingOffset;
    private boolean finished;

    private record Download(CUdeviceptr src, float[] dst, int n) {}

    Frame() {
      makeCurrent();
    }

    CUdeviceptr scratch(long floats) {
      var b = pool.acquire(Math.max(1, floats) * FLOAT);
      blocks.add(b);
      return b.handle();
    }

    CUdeviceptr upload(Tensor t) {
      return upload(t.data(), t.size());
    }

    CUdeviceptr upload(float[] data, int n) {
      CUdeviceptr d = scratch(n);
      if (n == 0) {
        return d;
      }
      long bytes = n * FLOAT;
      if (stagingOffset + bytes > staging.bytes()) {
        // Earlier uploads still read the old staging buffer: wait for them before replacing it.
        CudaCalls.check(JCudaDriver.cuStreamSynchronize(copyStream), "cuStreamSynchronize");
        growStaging(Math.max(bytes, staging.bytes() * 2));
        stagingOffset = 0;
      }
      FloatBuffer fb =
          staging
              .buffer()
              .position((int) stagingOffset)
              .slice()
              .order(java.nio.ByteOrder.nativeOrder())
              .asFloatBuffer();
      fb.put(data, 0, n);
      CudaCalls.check(
          JCudaDriver.cuMemcpyHtoDAsync(
              d, staging.pointer().withByteOffset(stagingOffset), bytes, copyStream),
          "cuMemcpyHtoDAsync");
      stagingOffset += align(bytes);
      return d;
    }

    /** Makes the compute stream wait until every upload so far has landed. */
    void compute() {
      CudaCalls.check(JCudaDriver.cuEventRecord(uploadsDone, copyStream), "cuEventRecord");
      CudaCalls.check(
          JCudaDriver.cuStreamWaitEvent(computeStream, uploadsDone, 0), "cuStreamWaitEvent");
    }

    void download(CUdeviceptr src, Tensor dst, int n) {
      downloads.add(new Download(src, dst.data(), n));
    }

    void finish() {
      try {
        long total = 0;
        for (Download d : downloads) {
          total += align(d.n * FLOAT);
        }
        if (total > staging.bytes()) {
          CudaCalls.check(JCudaDriver.cuStreamSynchronize(copyStream), "cuStreamSynchronize");
          synchronize();
          growStaging(total);
        }
        // The compute stream waited for every upload, so downloads queued behind the kernels
        // may reuse the staging area from offset 0.
        long offset = 0;
        long[] offsets = new long[downloads.size()];
        for (int i = 0; i < downloads.size(); i++) {
          Download d = downloads.get(i);
          offsets[i] = offset;
          if (d.n > 0) {
            CudaCalls.check(
                JCudaDriver.cuMemcpyDtoHAsync(
                    staging.pointer().withByteOffset(offset), d.src, d.n * FLOAT, computeStream),
                "cuMemcpyDtoHAsync");
          }
          offset += align(d.n * FLOAT);
        }
        synchronize();
        finished = true;
        for (int i = 0; i < downloads.size(); i++) {
          Download d = downloads.get(i);
          staging
              .buffer()
              .position((int) offsets[i])
              .slice()
              .order(java.nio.ByteOrder.nativeOrder())
              .asFloatBuffer()
              .get(d.dst, 0, d.n);
        }
      } finally {
        close();
      }
    }

    @Override
    public void close() {
      if (!blocks.isEmpty() && !finished) {
        // Failed half-way: let queued copies and kernels drain before their blocks are reused.
        JCudaDriver.cuStreamSynchronize(copyStream);
        JCudaDriver.cuStreamSynchronize(computeStream);
      }
      for (var b : blocks) {
        pool.release(b);
      }
      blocks.clear();
    }
  }

  private static long align(long bytes) {
    return (bytes + 255) & ~255L;
  }

  private void growStaging(long bytes) {
    staging.close();
    staging = PinnedHostBuffer.allocate(Math.max(bytes, INITIAL_STAGING_BYTES));
  }

  private void launch(String name, LaunchConfig lc, Object... args) {
    String signature = KernelSources.SIGNATURES.get(name);
    if (signature == null || signature.length() != args.length) {
      throw new IllegalArgumentException("kernel " + name + " takes " + signature);
    }
    Pointer[] params = new Pointer[args.length];
    for (int i = 0; i < args.length; i++) {
      char kind = signature.charAt(i);
      Object a = args[i];
      params[i] =
          switch (kind) {
            case 'P' -> Pointer.to((CUdeviceptr) a);
            case 'I' -> Pointer.to(new int[] {(Integer) a});
            case 'L' -> Pointer.to(new long[] {(Long) a});
            case 'F' -> Pointer.to(new float[] {(Float) a});
            default -> throw new IllegalStateException("bad signature " + signature);
          };
    }
    CudaCalls.check(
        JCudaDriver.cuLaunchKernel(
            functions.get(name),
            lc.gridX(),
            1,
            1,
            lc.blockX(),
            1,
            1,
            lc.sharedBytes(),
            computeStream,
            Pointer.to(params),
            null),
        "cuLaunchKernel(" + name + ")");
  }

  /** Row-major {@code C = alpha op(A) op(B) + beta C} as column-major {@code C^T = B^T A^T}. */
  private void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      CUdeviceptr a,
      int lda,
      CUdeviceptr b,
      int ldb,
      float beta,
      CUdeviceptr c,
      int ldc) {
    if (m == 0 || n == 0) {
      return;
    }
    CudaCalls.checkCublas(
        JCublas2.cublasSgemm(
            cublas,
            op(transB),
            op(transA),
            n,
            m,
            k,
            Pointer.to(new float[] {alpha}),
            b,
            ldb,
            a,
            lda,
            Pointer.to(new float[] {beta}),
            c,
            ldc),
        "cublasSgemm");
  }

  /** {@link #sgemm} over {@code count} matrices at fixed element strides. */
  private void sgemmBatched(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      CUdeviceptr a,
      int lda,
      long strideA,
      CUdeviceptr b,
      int ldb,
      long strideB,
      CUdeviceptr c,
      int ldc,
      long strideC,
      int count) {
    CudaCalls.checkCublas(
        JCublas2.cublasSgemmStridedBatched(
            cublas,
            op(transB),
            op(transA),
            n,
            m,
            k,
            Pointer.to(new float[] {alpha}),
            b,
            ldb,
            strideB,
            a,
            lda,
            strideA,
            Pointer.to(new float[] {0f}),
            c,
            ldc,
            strideC,
            count),
        "cublasSgemmStridedBatched");
  }

  private static int op(boolean trans) {
    return trans ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
  }

  private static CUdeviceptr at(CUdeviceptr p, long floats) {
    return p.withByteOffset(floats * FLOAT);
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
    try (Frame f = new Frame()) {
      CUdeviceptr da = f.upload(a);
      CUdeviceptr db = f.upload(b);
      CUdeviceptr dc = f.upload(c);
      f.compute();
      sgemm(
          transA,
          transB,
          m,
          n,
          k,
          alpha,
          at(da, aOffset),
          lda,
          at(db, bOffset),
          ldb,
          beta,
          at(dc, cOffset),
          ldc);
      f.download(dc, c, c.size());
      f.finish();
    }
  }

  @Override
  public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y, int n, int in, int out) {
    try (Frame f = new Frame()) {
      CUdeviceptr dx = f.upload(x.data(), n * in);
      CUdeviceptr dw = f.upload(w.data(), in * out);
      CUdeviceptr dbias = bias != null ? f.upload(bias.data(), out) : null;
      CUdeviceptr dy = f.scratch((long) n * out);
      f.compute();
      if (bias != null) {
        launch("fill_rows", LaunchConfig.elementwise((long) n * out), dy, dbias, n, out);
      }
      sgemm(false, false, n, out, in, 1f, dx, in, dw, out, bias != null ? 1f : 0f, dy, out);
      f.download(dy, y, n * out);
      f.finish();
    }
  }

  @Override
  public void linearBackward(
      Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, int n, int in, int out) {
    try (Frame f = new Frame()) {
      CUdeviceptr gx = f.upload(x.data(), n * in);
      CUdeviceptr gy = f.upload(dy.data(), n * out);
      CUdeviceptr gw = f.upload(dw.data(), in * out);
      CUdeviceptr gb = db != null ? f.upload(db.data(), out) : null;
      CUdeviceptr w0 = dx != null ? f.upload(w.data(), in * out) : null;
      CUdeviceptr gdx = dx != null ? f.scratch((long) n * in) : null;
      f.compute();
      sgemm(true, false, in, out, n, 1f, gx, in, gy, out, 1f, gw, out);
      f.download(gw, dw, in * out);
      if (db != null) {
        launch("sum_rows_accumulate", LaunchConfig.perColumn(out), gy, gb, n, out);
        f.download(gb, db, out);
      }
      if (dx != null) {
        sgemm(false, true, n, in, out, 1f, gy, out, w0, out, 0f, gdx, in);
        f.download(gdx, dx, n * in);
      }
      f.finish();
    }
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
    try (Frame f = new Frame()) {
      CUdeviceptr dx = f.upload(x.data(), n * c);
      CUdeviceptr dg = f.upload(gamma.data(), c);
      CUdeviceptr db = f.upload(beta.data(), c);
      CUdeviceptr dy = f.scratch((long) n * c);
      CUdeviceptr dm = f.scratch(n);
      CUdeviceptr dr = f.scratch(n);
      f.compute();
      launch(
          "layernorm_forward",
          LaunchConfig.perRow(n, c, Sizeof.FLOAT),
          dx,
          dg,
          db,
          dy,
          dm,
          dr,
          n,
          c,
          eps);
      f.download(dy, y, n * c);
      f.download(dm, mean, n);
      f.download(dr, rstd, n);
      f.finish();
    }
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
    try (Frame f = new Frame()) {
      CUdeviceptr gx = f.upload(x.data(), n * c);
      CUdeviceptr gg = f.upload(gamma.data(), c);
      CUdeviceptr gm = f.upload(mean.data(), n);
      CUdeviceptr gr = f.upload(rstd.data(), n);
      CUdeviceptr gy = f.upload(dy.data(), n * c);
      CUdeviceptr gdg = f.upload(dgamma.data(), c);
      CUdeviceptr gdb = f.upload(dbeta.data(), c);
      CUdeviceptr gdx = f.scratch((long) n * c);
      f.compute();
      launch(
          "layernorm_backward_dx",
          LaunchConfig.perRow(n, c, Sizeof.FLOAT),
          gx,
          gg,
          gm,
          gr,
          gy,
          gdx,
          n,
          c);
      launch(
          "layernorm_backward_params", LaunchConfig.perColumn(c), gx, gm, gr, gy, gdg, gdb, n, c);
      f.download(gdx, dx, n * c);
      f.download(gdg, dgamma, c);
      f.download(gdb, dbeta, c);
      f.finish();
    }
  }

  private void unary(String kernel, Tensor x, Tensor y, int n) {
    try (Frame f = new Frame()) {
      CUdeviceptr dx = f.upload(x.data(), n);
      CUdeviceptr dy = f.scratch(n);
      f.compute();
      launch(kernel, LaunchConfig.elementwise(n), dx, dy, (long) n);
      f.download(dy, y, n);
      f.finish();
    }
  }

  private void binary(String kernel, Tensor a, Tensor b, Tensor out, int n) {
    try (Frame f = new Frame()) {
      CUdeviceptr da = f.upload(a.data(), n);
      CUdeviceptr db = f.upload(b.data(), n);
      CUdeviceptr dout = f.scratch(n);
      f.compute();
      launch(kernel, LaunchConfig.elementwise(n), da, db, dout, (long) n);
      f.download(dout, out, n);
      f.finish();
    }
  }

  @Override
  public void geluForward(Tensor x, Tensor y, int n) {
    unary("gelu_forward", x, y, n);
  }

  @Override
  public void geluBackward(Tensor x, Tensor dy, Tensor dx, int n) {
    binary("gelu_backward", x, dy, dx, n);
  }

  @Override
  public void reluForward(Tensor x, Tensor y, int n) {
    unary("relu_forward", x, y, n);
  }

  @Override
  public void reluBackward(Tensor x, Tensor dy, Tensor dx, int n) {
    binary("relu_backward", x, dy, dx, n);
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out, int n) {
    binary("add", a, b, out, n);
  }

  @Override
  public void scale(Tensor x, float scale, Tensor out, int n) {
    try (Frame f = new Frame()) {
      CUdeviceptr dx = f.upload(x.data(), n);
      CUdeviceptr dout = f.scratch(n);
      f.compute();
      launch("scale", LaunchConfig.elementwise(n), dx, scale, dout, (long) n);
      f.download(dout, out, n);
      f.finish();
    }
  }

  @Override
  public void dropoutForward(Tensor x, Tensor mask, Tensor y, int n, float p, long seed) {
    try (Frame f = new Frame()) {
      CUdeviceptr dx = f.upload(x.data(), n);
      CUdeviceptr dm = f.scratch(n);
      CUdeviceptr dy = f.scratch(n);
      f.compute();
      launch(
          "dropout_forward",
          LaunchConfig.elementwise(n),
          dx,
          dm,
          dy,
          (long) n,
          p,
          1f / (1f - p),
          CpuBackend.mix(seed));
      f.download(dm, mask, n);
      f.download(dy, y, n);
      f.finish();
    }
  }

  @Override
  public void dropoutBackward(Tensor mask, Tensor dy, Tensor dx, int n) {
    binary("mul", dy, mask, dx, n);
  }

  @Override
  public void embeddingForward(
      Tensor tokens, Tensor wte, Tensor wpe, Tensor out, int b, int t, int c) {
    CpuBackend.checkTokens(tokens, b * t, wte.dim(0));
    try (Frame f = new Frame()) {
      CUdeviceptr dt = f.upload(tokens.data(), b * t);
      CUdeviceptr de = f.upload(wte);
      CUdeviceptr dp = f.upload(wpe);
      CUdeviceptr dout = f.scratch((long) b * t * c);
      f.compute();
      launch(
          "embedding_forward",
          LaunchConfig.elementwise((long) b * t * c),
          dt,
          de,
          dp,
          dout,
          b * t,
          t,
          c);
      f.download(dout, out, b * t * c);
      f.finish();
    }
  }

  @Override
  public void embeddingBackward(
      Tensor tokens, Tensor dout, Tensor dwte, Tensor dwpe, int b, int t, int c) {
    try (Frame f = new Frame()) {
      CUdeviceptr dt = f.upload(tokens.data(), b * t);
      CUdeviceptr dd = f.upload(dout.data(), b * t * c);
      CUdeviceptr de = f.upload(dwte);
      CUdeviceptr dp = f.upload(dwpe);
      f.compute();
      launch("embedding_backward", LaunchConfig.perColumn(c), dt, dd, de, dp, b * t, t, c);
      f.download(de, dwte, dwte.size());
      f.download(dp, dwpe, dwpe.size());
      f.finish();
    }
  }

  @Override
  public void attentionForward(Tensor qkv, Tensor att, Tensor y, int b, int t, int c, int h) {
    int hd = c / h;
    int c3 = 3 * c;
    float scale = (float) (1.0 / Math.sqrt(hd));
    try (Frame f = new Frame()) {
      CUdeviceptr dq = f.upload(qkv.data(), b * t * c3);
      CUdeviceptr da = f.scratch((long) b * h * t * t);
      CUdeviceptr dy = f.scratch((long) b * t * c);
      f.compute();
      for (int bi = 0; bi < b; bi++) {
        long q = (long) bi * t * c3;
        // scores[h][t, t] = scale * Q K^T, heads at stride hd inside a row of qkv
        sgemmBatched(
            false,
            true,
            t,
            t,
            hd,
            scale,
            at(dq, q),
            c3,
            hd,
            at(dq, q + c),
            c3,
            hd,
            at(da, (long) bi * h * t * t),
            t,
            (long) t * t,
            h);
      }
      launch(
          "softmax_causal_forward",
          LaunchConfig.perRow(b * h * t, t, Sizeof.FLOAT),
          da,
          b * h * t,
          t);
      for (int bi = 0; bi < b; bi++) {
        long q = (long) bi * t * c3;
        // y[t, hd] = P V per head
        sgemmBatched(
            false,
            false,
            t,
            hd,
            t,
            1f,
            at(da, (long) bi * h * t * t),
            t,
            (long) t * t,
            at(dq, q + 2L * c),
            c3,
            hd,
            at(dy, (long) bi * t * c),
            c,
            hd,
            h);
      }
      f.download(da, att, b * h * t * t);
      f.download(dy, y, b * t * c);
      f.finish();
    }
  }

  @Override
  public void attentionBackward(
      Tensor qkv, Tensor att, Tensor dy, Tensor datt, Tensor dqkv, int b, int t, int c, int h) {
    int hd = c / h;
    int c3 = 3 * c;
    float scale = (float) (1.0 / Math.sqrt(hd));
    try (Frame f = new Frame()) {
      CUdeviceptr gq = f.upload(qkv.data(), b * t * c3);
      CUdeviceptr ga = f.upload(att.data(), b * h * t * t);
      CUdeviceptr gy = f.upload(dy.data(), b * t * c);
      CUdeviceptr gda = f.scratch((long) b * h * t * t);
      CUdeviceptr gdq = f.scratch((long) b * t * c3);
      f.compute();
      long tt = (long) t * t;
      for (int bi = 0; bi < b; bi++) {
        long q = (long) bi * t * c3;
        long a = bi * h * tt;
        long yo = (long) bi * t * c;
        // dP = dY V^T
        sgemmBatched(
            false,
            true,
            t,
            t,
            hd,
            1f,
            at(gy, yo),
            c,
            hd,
            at(gq, q + 2L * c),
            c3,
            hd,
            at(gda, a),
            t,
            tt,
            h);
        // dV = P^T dY
        sgemmBatched(
            true,
            false,
            t,
            hd,
            t,
            1f,
            at(ga, a),
            t,
            tt,
            at(gy, yo),
            c,
            hd,
            at(gdq, q + 2L * c),
            c3,
            hd,
            h);
      }
      launch(
          "softmax_causal_backward",
          LaunchConfig.perRow(b * h * t, t, Sizeof.FLOAT),
          ga,
          gda,
          b * h * t,
          t,
          scale);
      for (int bi = 0; bi < b; bi++) {
        long q = (long) bi * t * c3;
        long a = bi * h * tt;
        // dQ = dS K ; dK = dS^T Q
        sgemmBatched(
            false,
            false,
            t,
            hd,
            t,
            1f,
            at(gda, a),
            t,
            tt,
            at(gq, q + c),
            c3,
            hd,
            at(gdq, q),
            c3,
            hd,
            h);
        sgemmBatched(
            true,
            false,
            t,
            hd,
            t,
            1f,
            at(gda, a),
            t,
            tt,
            at(gq, q),
            c3,
            hd,
            at(gdq, q + c),
            c3,
            hd,
            h);
      }
      f.download(gda, datt, b * h * t * t);
      f.download(gdq, dqkv, b * t * c3);
      f.finish();
    }
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
    float[] tg = targets.data();
    for (int r = 0; r < n; r++) {
      if ((int) tg[r] >= v) {
        throw new IllegalArgumentException(
            "target " + (int) tg[r] + " in row " + r + " outside vocabulary [0, " + v + ")");
      }
    }
    try (Frame f = new Frame()) {
      CUdeviceptr dz = f.upload(logits.data(), n * v);
      CUdeviceptr dt = f.upload(tg, n);
      CUdeviceptr dl = f.scratch(n);
      CUdeviceptr dd = f.scratch((long) n * v);
      f.compute();
      launch(
          "cross_entropy",
          LaunchConfig.perRow(n, v, Sizeof.DOUBLE),
          dz,
          dt,
          dl,
          dd,
          n,
          v,
          gradScale);
      f.download(dl, rowLoss, n);
      f.download(dd, dlogits, n * v);
      f.finish();
    }
  }

  @Override
  public double sumOfSquares(Tensor x, int n) {
    LaunchConfig lc = LaunchConfig.sumOfSquares();
    double[] host = new double[lc.gridX()];
    try (Frame f = new Frame()) {
      CUdeviceptr dx = f.upload(x.data(), n);
      // doubles: two floats each
      CUdeviceptr partials = f.scratch(2L * lc.gridX());
      f.compute();
      launch("sum_squares_partial", lc, dx, (long) n, partials);
      synchronize();
      CudaCalls.check(
          JCudaDriver.cuMemcpyDtoH(Pointer.to(host), partials, host.length * (long) Sizeof.DOUBLE),
          "cuMemcpyDtoH");
      f.finish();
    }
    double sum = 0;
    for (double p : host) {
      sum += p;
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
    float decay = 1f - lr * weightDecay;
    float bc1 = (float) (1 - Math.pow(beta1, step));
    float bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
    float stepSize = lr / bc1;
    try (Frame f = new Frame()) {
      CUdeviceptr dp = f.upload(param.data(), n);
      CUdeviceptr dg = f.upload(grad.data(), n);
      CUdeviceptr dm = f.upload(m.data(), n);
      CUdeviceptr dv = f.upload(v.data(), n);
      f.compute();
      launch(
          "adamw",
          LaunchConfig.elementwise(n),
          dp,
          dg,
          dm,
          dv,
          (long) n,
          beta1,
          beta2,
          eps,
          decay,
          stepSize,
          bc2Sqrt);
      f.download(dp, param, n);
      f.download(dm, m, n);
      f.download(dv, v, n);
      f.finish();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    makeCurrent();
    closed = true;
    JCudaDriver.cuStreamSynchronize(computeStream);
    JCudaDriver.cuStreamSynchronize(copyStream);
    pool.close();
    staging.close();
    JCublas2.cublasDestroy(cublas);
    JCudaDriver.cuEventDestroy(uploadsDone);
    JCudaDriver.cuStreamDestroy(computeStream);
    JCudaDriver.cuStreamDestroy(copyStream);
    JCudaDriver.cuModuleUnload(module);
    JCudaDriver.cuDevicePrimaryCtxRelease(cuDevice);
  }
}
