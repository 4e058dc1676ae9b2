package io.flotilla.engine.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.jcublas.cublasStatus;
import jcuda.nvrtc.nvrtcResult;

/** Turns the status codes of CUDA driver, cuBLAS and NVRTC calls into exceptions. */
final class CudaCalls {
  private CudaCalls() {}

  /** A failed CUDA call, naming the call and the status. */
  static final class CudaCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    CudaCallException(String message, int status) {
      super(message);
      this.status = status;
    }
  }

  static void check(int rc, String call) {
    if (rc != CUresult.CUDA_SUCCESS) {
      throw new CudaCallException(call + " failed: " + CUresult.stringFor(rc), rc);
    }
  }

  static void checkCublas(int rc, String call) {
    if (rc != cublasStatus.CUBLAS_STATUS_SUCCESS) {
      throw new CudaCallException(call + " failed: " + cublasStatus.stringFor(rc), rc);
    }
  }

  static void checkNvrtc(int rc, String call) {
    if (rc != nvrtcResult.NVRTC_SUCCESS) {
      throw new CudaCallException(call + " failed: " + nvrtcResult.stringFor(rc), rc);
    }
  }
}
