package io.flotilla.engine.backend.cuda;

import java.util.Locale;

/** Matrix-product precision of the CUDA backend. Other kernels always compute in FP32. */
public enum Precision {
  /** IEEE FP32 matrix products (cuBLAS pedantic math: no reduced-precision shortcuts). */
  FP32,
  /**
   * FP32 storage, TF32 tensor-core matrix products (10-bit mantissa inputs, FP32 accumulation):
   * several times faster on Ampere and later, with about 1e-3 relative error per product.
   */
  TF32;

  /** Lower-case name used in options and determinism classes. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code fp32} or {@code tf32} (any case). */
  public static Precision parse(String s) {
    for (Precision p : values()) {
      if (p.id().equalsIgnoreCase(s.trim())) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown precision '" + s + "'; allowed: fp32, tf32");
  }
}
