// Layer kernels of the CUDA backend, compiled at start by NVRTC (no nvcc at build time).
//
// Every kernel gives the same result for the same input and launch configuration: reductions
// run in a fixed tree order inside one block, and cross-row sums (bias, LayerNorm and
// embedding gradients) are computed by one thread per column that walks the rows in order.
// Reduction kernels need blockDim.x to be a power of two and blockDim.x floats of shared
// memory (doubles for ce_rows and sum_squares_partial); LaunchConfig computes both.

#define GELU_K 0.7978845608028654
#define GELU_C 0.044715
// NVRTC compiles without system headers, so no INFINITY macro: build the values from bits.
#define NEG_INF_F __int_as_float((int) 0xff800000U)
#define NEG_INF_D __longlong_as_double((long long) 0xfff0000000000000ULL)

// Tree reduction of sh[0..blockDim.x) into sh[0]; every thread must call it.
__device__ float block_sum(float* sh, float v) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      sh[threadIdx.x] += sh[threadIdx.x + s];
    }
    __syncthreads();
  }
  float r = sh[0];
  __syncthreads();
  return r;
}

__device__ float block_max(float* sh, float v) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]);
    }
    __syncthreads();
  }
  float r = sh[0];
  __syncthreads();
  return r;
}

__device__ double block_sum_d(double* sh, double v) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      sh[threadIdx.x] += sh[threadIdx.x + s];
    }
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

// y[r, j] = bias[j]
extern "C" __global__ void fill_rows(float* y, const float* bias, int n, int cols) {
  long long total = (long long) n * cols;
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x) {
    y[i] = bias[i % cols];
  }
}

// acc[j] += sum over rows r (in order) of src[r, j]
extern "C" __global__ void sum_rows_accumulate(const float* src, float* acc, int n, int cols) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= cols) {
    return;
  }
  float s = acc[j];
  for (int r = 0; r < n; r++) {
    s += src[(long long) r * cols + j];
  }
  acc[j] = s;
}

// One block per row.
extern "C" __global__ void layernorm_forward(const float* x, const float* gamma, const float* beta,
    float* y, float* mean, float* rstd, int n, int c, float eps) {
  extern __shared__ float sh[];
  int r = blockIdx.x;
  if (r >= n) {
    return;
  }
  const float* xr = x + (long long) r * c;
  float* yr = y + (long long) r * c;
  float s = 0.0f;
  for (int j = threadIdx.x; j < c; j += blockDim.x) {
    s += xr[j];
  }
  float mu = block_sum(sh, s) / c;
  float v = 0.0f;
  for (int j = threadIdx.x; j < c; j += blockDim.x) {
    float d = xr[j] - mu;
    v += d * d;
  }
  float var = block_sum(sh, v) / c;
  // var + eps in float, then 1/sqrt in double: the CPU backend's exact sequence
  float rs = (float) (1.0 / sqrt((double) (var + eps)));
  if (threadIdx.x == 0) {
    mean[r] = mu;
    rstd[r] = rs;
  }
  for (int j = threadIdx.x; j < c; j += blockDim.x) {
    yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
  }
}

// One block per row: dx only.
extern "C" __global__ void layernorm_backward_dx(const float* x, const float* gamma,
    const float* mean, const float* rstd, const float* dy, float* dx, int n, int c) {
  extern __shared__ float sh[];
  int r = blockIdx.x;
  if (r >= n) {
    return;
  }
  const float* xr = x + (long long) r * c;
  const float* dyr = dy + (long long) r * c;
  float* dxr = dx + (long long) r * c;
  float mu = mean[r];
  float rs = rstd[r];
  float a = 0.0f;
  float b = 0.0f;
  for (int j = threadIdx.x; j < c; j += blockDim.x) {
    float xhat = (xr[j] - mu) * rs;
    float dxhat = dyr[j] * gamma[j];
    a += dxhat;
    b += dxhat * xhat;
  }
  float meanDxhat = block_sum(sh, a) / c;
  float meanDxhatXhat = block_sum(sh, b) / c;
  for (int j = threadIdx.x; j < c; j += blockDim.x) {
    float xhat = (xr[j] - mu) * rs;
    float dxhat = dyr[j] * gamma[j];
    dxr[j] = rs * (dxhat - meanDxhat - xhat * meanDxhatXhat);
  }
}

// One thread per column, rows in order: dgamma += sum dy * xhat, dbeta += sum dy.
extern "C" __global__ void layernorm_backward_params(const float* x, const float* mean,
    const float* rstd, const float* dy, float* dgamma, float* dbeta, int n, int c) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= c) {
    return;
  }
  float g = dgamma[j];
  float b = dbeta[j];
  for (int r = 0; r < n; r++) {
    long long o = (long long) r * c + j;
    float d = dy[o];
    g += d * ((x[o] - mean[r]) * rstd[r]);
    b += d;
  }
  dgamma[j] = g;
  dbeta[j] = b;
}

extern "C" __global__ void gelu_forward(const float* x, float* y, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    double v = x[i];
    double t = tanh(GELU_K * (v + GELU_C * v * v * v));
    y[i] = (float) (0.5 * v * (1.0 + t));
  }
}

extern "C" __global__ void gelu_backward(const float* x, const float* dy, float* dx, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    double v = x[i];
    double t = tanh(GELU_K * (v + GELU_C * v * v * v));
    double d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_K * (1.0 + 3.0 * GELU_C * v * v);
    dx[i] = (float) (dy[i] * d);
  }
}

extern "C" __global__ void relu_forward(const float* x, float* y, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  }
}

extern "C" __global__ void relu_backward(const float* x, const float* dy, float* dx, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
  }
}

extern "C" __global__ void add(const float* a, const float* b, float* out, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    out[i] = a[i] + b[i];
  }
}

extern "C" __global__ void mul(const float* a, const float* b, float* out, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    out[i] = a[i] * b[i];
  }
}

extern "C" __global__ void scale(const float* x, float s, float* out, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    out[i] = x[i] * s;
  }
}

// SplitMix64 finaliser, identical to CpuBackend.mix, so both backends draw the same mask.
__device__ unsigned long long mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

extern "C" __global__ void dropout_forward(const float* x, float* mask, float* y, long long n,
    float p, float keepScale, unsigned long long seedMix) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    unsigned long long z = mix64(seedMix + (unsigned long long) i * 0x9e3779b97f4a7c15ULL);
    double u = (double) (z >> 11) * 1.1102230246251565e-16;
    float mk = u < (double) p ? 0.0f : keepScale;
    mask[i] = mk;
    y[i] = x[i] * mk;
  }
}

// out[i, :] = wte[tokens[i], :] + wpe[i % t, :]; token ids were validated on the host.
extern "C" __global__ void embedding_forward(const float* tokens, const float* wte,
    const float* wpe, float* out, int bt, int t, int c) {
  long long total = (long long) bt * c;
  for (long long k = blockIdx.x * (long long) blockDim.x + threadIdx.x; k < total;
       k += (long long) gridDim.x * blockDim.x) {
    int i = (int) (k / c);
    int j = (int) (k % c);
    int id = (int) tokens[i];
    out[k] = wte[(long long) id * c + j] + wpe[(long long) (i % t) * c + j];
  }
}

// One thread per column, positions in order (the CPU backend's order).
extern "C" __global__ void embedding_backward(const float* tokens, const float* dout,
    float* dwte, float* dwpe, int bt, int t, int c) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= c) {
    return;
  }
  for (int i = 0; i < bt; i++) {
    int id = (int) tokens[i];
    float g = dout[(long long) i * c + j];
    dwte[(long long) id * c + j] += g;
    dwpe[(long long) (i % t) * c + j] += g;
  }
}

// In-place causal softmax over rows of att [rows, t] (already scaled scores); row r is query
// position r % t. One block per row.
extern "C" __global__ void softmax_causal_forward(float* att, int rows, int t) {
  extern __shared__ float sh[];
  int r = blockIdx.x;
  if (r >= rows) {
    return;
  }
  int i = r % t;
  float* a = att + (long long) r * t;
  float m = NEG_INF_F;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    m = fmaxf(m, a[j]);
  }
  m = block_max(sh, m);
  float s = 0.0f;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    float e = expf(a[j] - m);
    a[j] = e;
    s += e;
  }
  float inv = 1.0f / block_sum(sh, s);
  for (int j = threadIdx.x; j < t; j += blockDim.x) {
    a[j] = j <= i ? a[j] * inv : 0.0f;
  }
}

// datt = att * (datt - sum_j att*datt) * scale over the causal part, 0 elsewhere.
extern "C" __global__ void softmax_causal_backward(const float* att, float* datt, int rows, int t,
    float scale) {
  extern __shared__ float sh[];
  int r = blockIdx.x;
  if (r >= rows) {
    return;
  }
  int i = r % t;
  const float* a = att + (long long) r * t;
  float* d = datt + (long long) r * t;
  float dot = 0.0f;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    dot += a[j] * d[j];
  }
  dot = block_sum(sh, dot);
  for (int j = threadIdx.x; j < t; j += blockDim.x) {
    d[j] = j <= i ? a[j] * (d[j] - dot) * scale : 0.0f;
  }
}

// Softmax cross-entropy, one block per row; targets were validated on the host (< v).
extern "C" __global__ void cross_entropy(const float* logits, const float* targets,
    float* rowLoss, float* dlogits, int n, int v, float gradScale) {
  extern __shared__ double shd[];
  int r = blockIdx.x;
  if (r >= n) {
    return;
  }
  const float* z = logits + (long long) r * v;
  float* dz = dlogits + (long long) r * v;
  int target = (int) targets[r];
  if (target < 0) {
    if (threadIdx.x == 0) {
      rowLoss[r] = 0.0f;
    }
    for (int j = threadIdx.x; j < v; j += blockDim.x) {
      dz[j] = 0.0f;
    }
    return;
  }
  double m = NEG_INF_D;
  for (int j = threadIdx.x; j < v; j += blockDim.x) {
    m = fmax(m, (double) z[j]);
  }
  shd[threadIdx.x] = m;
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      shd[threadIdx.x] = fmax(shd[threadIdx.x], shd[threadIdx.x + s]);
    }
    __syncthreads();
  }
  float mx = (float) shd[0];
  __syncthreads();
  double s = 0.0;
  for (int j = threadIdx.x; j < v; j += blockDim.x) {
    s += exp((double) (z[j] - mx));
  }
  double lse = (double) mx + log(block_sum_d(shd, s));
  if (threadIdx.x == 0) {
    rowLoss[r] = (float) (lse - (double) z[target]);
  }
  for (int j = threadIdx.x; j < v; j += blockDim.x) {
    double p = exp((double) z[j] - lse);
    dz[j] = (float) ((p - (j == target ? 1.0 : 0.0)) * gradScale);
  }
}

// partials[block] = sum of squares of a fixed, strided subset; the host adds the partials in
// order, so the result depends only on the input and the grid size.
extern "C" __global__ void sum_squares_partial(const float* x, long long n, double* partials) {
  extern __shared__ double shd[];
  double s = 0.0;
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    double d = x[i];
    s += d * d;
  }
  s = block_sum_d(shd, s);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = s;
  }
}

// AdamW with PyTorch's formula; decay = 1 - lr * wd, stepSize = lr / (1 - beta1^step).
extern "C" __global__ void adamw(float* p, const float* g, float* m, float* v, long long n,
    float beta1, float beta2, float eps, float decay, float stepSize, float bc2Sqrt) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    float gi = g[i];
    float mi = m[i] * beta1 + (1.0f - beta1) * gi;
    float vi = v[i] * beta2 + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float denom = (float) sqrt((double) vi) / bc2Sqrt + eps;
    p[i] = p[i] * decay - stepSize * mi / denom;
  }
}
