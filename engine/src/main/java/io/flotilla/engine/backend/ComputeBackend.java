package io.flotilla.engine.backend;

import io.flotilla.engine.tensor.Tensor;

/**
 * The numerical operations layers are built from. Layers call only these methods, so another
 * backend (CUDA) can replace the CPU one without touching layer code.
 *
 * <p>All matrices are row-major. Methods named {@code ...Backward} accumulate into parameter
 * gradients ({@code +=}) and overwrite input gradients ({@code =}) unless stated otherwise.
 *
 * <p>Determinism contract: for the same inputs, every method gives bit-identical results on every
 * call, independent of the number of threads the backend uses; reductions run in a fixed order.
 */
public interface ComputeBackend extends AutoCloseable {

  /** A short name for logs and benchmark reports, e.g. {@code cpu(openblas, 2 threads)}. */
  String description();

  /**
   * Which results this backend reproduces bit for bit, e.g. {@code cpu-JNIBLAS-amd64-f6m85-java25}
   * or {@code cuda-sm90-132sm-cublas120603-tf32}. Two executions of the same work in the same class
   * give identical bits, so a verifier compares them exactly; across classes it compares within the
   * tolerance of the coarser precision (docs/gpu.md).
   */
  String determinismClass();

  /**
   * General matrix product {@code C = alpha * op(A) * op(B) + beta * C} on row-major matrices,
   * where {@code op(A)} is {@code m x k}, {@code op(B)} is {@code k x n} and {@code C} is {@code m
   * x n}; {@code lda}, {@code ldb}, {@code ldc} are row strides and the offsets are in elements.
   */
  void gemm(
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
      int ldc);

  /** {@code y[n, out] = x[n, in] * w[in, out] + bias[out]} (bias may be null). */
  void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y, int n, int in, int out);

  /**
   * Backward of {@link #linearForward}: {@code dw += x^T dy}, {@code db += sum_rows dy} (if db is
   * not null), {@code dx = dy w^T} (if dx is not null).
   */
  void linearBackward(
      Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, int n, int in, int out);

  /** Row-wise layer normalisation over {@code c} features; saves mean and 1/std per row. */
  void layerNormForward(
      Tensor x,
      Tensor gamma,
      Tensor beta,
      Tensor y,
      Tensor mean,
      Tensor rstd,
      int n,
      int c,
      float eps);

  /** Backward of {@link #layerNormForward}. */
  void layerNormBackward(
      Tensor x,
      Tensor gamma,
      Tensor mean,
      Tensor rstd,
      Tensor dy,
      Tensor dx,
      Tensor dgamma,
      Tensor dbeta,
      int n,
      int c);

  /** GELU with the tanh approximation (GPT-2's {@code gelu_new}). */
  void geluForward(Tensor x, Tensor y, int n);

  /** {@code dx = dy * gelu'(x)}. */
  void geluBackward(Tensor x, Tensor dy, Tensor dx, int n);

  /** {@code y = max(x, 0)}. */
  void reluForward(Tensor x, Tensor y, int n);

  /** {@code dx = dy} where {@code x > 0}, else 0. */
  void reluBackward(Tensor x, Tensor dy, Tensor dx, int n);

  /** {@code out = a + b} elementwise ({@code out} may alias {@code a} or {@code b}). */
  void add(Tensor a, Tensor b, Tensor out, int n);

  /** {@code out = x * scale} elementwise ({@code out} may alias {@code x}). */
  void scale(Tensor x, float scale, Tensor out, int n);

  /**
   * Inverted dropout: keeps each element with probability {@code 1 - p} and scales kept elements by
   * {@code 1/(1-p)}. The keep decision for element {@code i} is a pure function of {@code (seed,
   * i)}, so results do not depend on thread count. The mask (0 or the scale) is saved.
   */
  void dropoutForward(Tensor x, Tensor mask, Tensor y, int n, float p, long seed);

  /** {@code dx = dy * mask}. */
  void dropoutBackward(Tensor mask, Tensor dy, Tensor dx, int n);

  /** {@code out[b, t, :] = wte[tokens[b, t], :] + wpe[t, :]}; token ids are stored as floats. */
  void embeddingForward(Tensor tokens, Tensor wte, Tensor wpe, Tensor out, int b, int t, int c);

  /** Scatter-adds {@code dout} into {@code dwte} rows and {@code dwpe} positions. */
  void embeddingBackward(Tensor tokens, Tensor dout, Tensor dwte, Tensor dwpe, int b, int t, int c);

  /**
   * Causal multi-head self-attention core. {@code qkv} is {@code [b, t, 3c]} (queries, keys and
   * values side by side, each split into {@code h} heads), {@code att} receives the softmax
   * probabilities {@code [b, h, t, t]} and {@code y} the output {@code [b, t, c]}.
   */
  void attentionForward(Tensor qkv, Tensor att, Tensor y, int b, int t, int c, int h);

  /**
   * Backward of {@link #attentionForward}; {@code datt} is scratch of the size of {@code att},
   * {@code dqkv} is overwritten.
   */
  void attentionBackward(
      Tensor qkv, Tensor att, Tensor dy, Tensor datt, Tensor dqkv, int b, int t, int c, int h);

  /**
   * Softmax cross-entropy per row of {@code logits [n, v]}. Rows whose target is negative are
   * ignored (loss 0, gradient 0). Writes each row's loss into {@code rowLoss} and {@code (softmax -
   * onehot) * gradScale} into {@code dlogits}.
   */
  void crossEntropy(
      Tensor logits, Tensor targets, Tensor rowLoss, Tensor dlogits, int n, int v, float gradScale);

  /** Sum of squares in double precision, accumulated in a fixed order. */
  double sumOfSquares(Tensor x, int n);

  /**
   * One AdamW update with PyTorch's formula: decoupled weight decay {@code p *= 1 - lr * wd},
   * moment updates, bias correction with {@code step} (1-based).
   */
  void adamw(
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
      int step);

  @Override
  void close();
}
