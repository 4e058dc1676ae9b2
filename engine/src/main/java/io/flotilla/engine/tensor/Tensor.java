package io.flotilla.engine.tensor;

import java.util.Arrays;

/**
 * A dense float32 tensor in row-major order, backed by a heap {@code float[]}.
 *
 * <p>Heap arrays rather than off-heap memory because the BLAS binding ({@code dev.ludovic.netlib})
 * takes {@code float[]} plus an offset for both its native (OpenBLAS) and its Vector-API path, so
 * heap arrays reach sgemm without a copy; the JIT also vectorises plain array loops well. The
 * backing array may be larger than the shape needs: layers keep one buffer per activation and
 * {@link #ensure reshape} it when the batch size changes, so steady-state training steps do not
 * allocate.
 */
public final class Tensor {
  private final float[] data;
  private int[] shape;
  private int size;

  private Tensor(float[] data, int[] shape) {
    this.data = data;
    setShape(shape);
  }

  /** A new zero tensor of this shape. */
  public static Tensor zeros(int... shape) {
    return new Tensor(new float[checkedSize(shape)], shape.clone());
  }

  /** Wraps an array (not copied); its length must be at least the product of the shape. */
  public static Tensor wrap(float[] data, int... shape) {
    if (data.length < checkedSize(shape)) {
      throw new IllegalArgumentException(
          "array of length " + data.length + " is too small for shape " + Arrays.toString(shape));
    }
    return new Tensor(data, shape.clone());
  }

  /**
   * Returns {@code existing} reshaped to {@code shape} when its array is large enough, else a new
   * zero tensor. The contents of a reused buffer are unspecified.
   */
  public static Tensor ensure(Tensor existing, int... shape) {
    int needed = checkedSize(shape);
    if (existing != null && existing.data.length >= needed) {
      existing.setShape(shape.clone());
      return existing;
    }
    return zeros(shape);
  }

  private static int checkedSize(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n *= d;
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
    }
    return (int) n;
  }

  private void setShape(int[] shape) {
    this.shape = shape;
    this.size = checkedSize(shape);
  }

  /** The backing array; only the first {@link #size()} elements belong to the tensor. */
  public float[] data() {
    return data;
  }

  /** A copy of the shape. */
  public int[] shape() {
    return shape.clone();
  }

  /** Size of dimension {@code i}; negative indexes count from the end. */
  public int dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Number of elements. */
  public int size() {
    return size;
  }

  /** Element at a flat index. */
  public float get(int i) {
    return data[i];
  }

  /** Sets all elements to zero. */
  public void zero() {
    Arrays.fill(data, 0, size, 0f);
  }

  /** Copies this tensor's elements into {@code other}, which must have the same size. */
  public void copyTo(Tensor other) {
    if (other.size != size) {
      throw new IllegalArgumentException("size mismatch: " + size + " vs " + other.size);
    }
    System.arraycopy(data, 0, other.data, 0, size);
  }

  /** A new tensor with a copy of the elements. */
  public Tensor copy() {
    return new Tensor(Arrays.copyOf(data, size), shape.clone());
  }

  /** A copy of the elements as an array of exactly {@link #size()} floats. */
  public float[] toArray() {
    return Arrays.copyOf(data, size);
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape);
  }
}
