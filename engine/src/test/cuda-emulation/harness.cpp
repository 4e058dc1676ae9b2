// Executes every kernel of kernels.cu on CPU threads under prelude.h's emulation of the CUDA
// model and compares each result with a sequential port of the CPU backend's formulas, with the
// launch configurations of LaunchConfig. It checks the kernels' logic (indexing, block
// reductions, causal masks, grid-stride loops) without a GPU; it says nothing about NVRTC,
// cuBLAS, warp scheduling or device memory. Run through run.sh.
#include "prelude.h"
#include "kernels_emu.cpp"
#include <cstdio>
#include <cstdint>
#include <random>
#include <functional>
#include <algorithm>

template <class F, class... A>
void launch(F f, int grid, int block, size_t shared, A... args) {
  gridDim.x = grid; blockDim.x = block;
  for (int b = 0; b < grid; b++) {
    std::vector<char> sm(shared + 16);
    std::barrier<> bar(block);
    std::vector<std::thread> ts;
    for (int t = 0; t < block; t++)
      ts.emplace_back([&, t] { blockIdx.x = b; threadIdx.x = t; g_barrier = &bar; g_shared = sm.data(); f(args...); });
    for (auto& th : ts) th.join();
  }
}
struct LC { int grid, block; size_t shared; };
int nextPow2(int v) { int p = 1; while (p < v) p <<= 1; return p; }
LC elementwise(long long n) { long long b = std::max(1LL, (n + 255) / 256); return {(int) std::min(65535LL, b), 256, 0}; }
LC perColumn(int cols) { int blk = std::min(256, ((std::max(1, cols) + 31) / 32) * 32); return {std::max(1, (cols + blk - 1) / blk), blk, 0}; }
LC perRow(int rows, int cols, int eb) { int blk = std::min(1024, nextPow2(std::max(32, cols))); return {std::max(1, rows), blk, (size_t) blk * eb}; }
#define RUN(k, lc, ...) launch(k, lc.grid, lc.block, lc.shared, __VA_ARGS__)

std::mt19937 rng(7);
std::vector<float> rnd(size_t n) { std::normal_distribution<float> d; std::vector<float> v(n); for (auto& x : v) x = d(rng); return v; }
int failures = 0;
void cmp(const char* name, const std::vector<float>& got, const std::vector<float>& ref, double tol = 1e-6) {
  double md = 0, mr = 1e-12;
  for (size_t i = 0; i < ref.size(); i++) { md = std::max(md, (double) std::fabs(got[i] - ref[i])); mr = std::max(mr, (double) std::fabs(ref[i])); }
  bool ok = md / mr <= tol;
  if (!ok) failures++;
  printf("%-28s rel err %.3g %s\n", name, md / mr, ok ? "ok" : "FAIL");
}
uint64_t mix(uint64_t z) { z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL; z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL; return z ^ (z >> 31); }

int main() {
  { // fill_rows + sum_rows_accumulate
    int n = 37, c = 70; auto bias = rnd(c); std::vector<float> y(n * c);
    RUN(fill_rows, elementwise((long long) n * c), y.data(), (const float*) bias.data(), n, c);
    std::vector<float> ref(n * c); for (int r = 0; r < n; r++) for (int j = 0; j < c; j++) ref[r * c + j] = bias[j];
    cmp("fill_rows", y, ref, 0);
    auto src = rnd(n * c); auto acc = rnd(c); auto acc2 = acc;
    RUN(sum_rows_accumulate, perColumn(c), (const float*) src.data(), acc.data(), n, c);
    for (int r = 0; r < n; r++) for (int j = 0; j < c; j++) acc2[j] += src[r * c + j];
    cmp("sum_rows_accumulate", acc, acc2, 0);
  }
  for (int c : {40, 300}) { // layernorm
    int n = 9; float eps = 1e-5f; auto x = rnd(n * c), g = rnd(c), b = rnd(c);
    std::vector<float> y(n * c), m(n), rs(n), ry(n * c), rm(n), rr(n);
    RUN(layernorm_forward, perRow(n, c, 4), (const float*) x.data(), (const float*) g.data(), (const float*) b.data(), y.data(), m.data(), rs.data(), n, c, eps);
    for (int r = 0; r < n; r++) { float s = 0; for (int j = 0; j < c; j++) s += x[r*c+j]; float mu = s / c; float v = 0; for (int j = 0; j < c; j++) { float d = x[r*c+j]-mu; v += d*d; } v /= c; float q = (float)(1.0/std::sqrt((double)(v+eps))); rm[r]=mu; rr[r]=q; for (int j = 0; j < c; j++) ry[r*c+j] = (x[r*c+j]-mu)*q*g[j]+b[j]; }
    cmp(c == 40 ? "layernorm_forward c=40" : "layernorm_forward c=300", y, ry, 1e-5); cmp("  mean", m, rm, 1e-5); cmp("  rstd", rs, rr, 1e-5);
    auto dy = rnd(n * c); std::vector<float> dx(n * c), rdx(n * c); auto dg = rnd(c), db = rnd(c); auto rdg = dg, rdb = db;
    RUN(layernorm_backward_dx, perRow(n, c, 4), (const float*) x.data(), (const float*) g.data(), (const float*) rm.data(), (const float*) rr.data(), (const float*) dy.data(), dx.data(), n, c);
    RUN(layernorm_backward_params, perColumn(c), (const float*) x.data(), (const float*) rm.data(), (const float*) rr.data(), (const float*) dy.data(), dg.data(), db.data(), n, c);
    for (int r = 0; r < n; r++) { float mu = rm[r], q = rr[r], a = 0, bb = 0; for (int j = 0; j < c; j++) { float xh = (x[r*c+j]-mu)*q, dxh = dy[r*c+j]*g[j]; a += dxh; bb += dxh*xh; } float ma = a / c, mb = bb / c; for (int j = 0; j < c; j++) { float xh = (x[r*c+j]-mu)*q, dxh = dy[r*c+j]*g[j]; rdx[r*c+j] = q*(dxh-ma-xh*mb); } }
    for (int r = 0; r < n; r++) for (int j = 0; j < c; j++) { float d = dy[r*c+j]; rdg[j] += d*((x[r*c+j]-rm[r])*rr[r]); rdb[j] += d; }
    cmp("layernorm_backward_dx", dx, rdx, 1e-5); cmp("layernorm_backward dgamma", dg, rdg, 0); cmp("layernorm_backward dbeta", db, rdb, 0);
  }
  { // elementwise
    long long n = 3000; auto x = rnd(n), dy = rnd(n); std::vector<float> y(n), r(n);
    const double K = 0.7978845608028654, C = 0.044715;
    RUN(gelu_forward, elementwise(n), (const float*) x.data(), y.data(), n);
    for (int i = 0; i < n; i++) { double v = x[i]; double t = std::tanh(K*(v+C*v*v*v)); r[i] = (float)(0.5*v*(1+t)); } cmp("gelu_forward", y, r, 1e-6);
    RUN(gelu_backward, elementwise(n), (const float*) x.data(), (const float*) dy.data(), y.data(), n);
    for (int i = 0; i < n; i++) { double v = x[i]; double t = std::tanh(K*(v+C*v*v*v)); double d = 0.5*(1+t)+0.5*v*(1-t*t)*K*(1+3*C*v*v); r[i] = (float)(dy[i]*d); } cmp("gelu_backward", y, r, 1e-6);
    RUN(relu_forward, elementwise(n), (const float*) x.data(), y.data(), n); for (int i = 0; i < n; i++) r[i] = x[i] > 0 ? x[i] : 0; cmp("relu_forward", y, r, 0);
    RUN(relu_backward, elementwise(n), (const float*) x.data(), (const float*) dy.data(), y.data(), n); for (int i = 0; i < n; i++) r[i] = x[i] > 0 ? dy[i] : 0; cmp("relu_backward", y, r, 0);
    RUN(add, elementwise(n), (const float*) x.data(), (const float*) dy.data(), y.data(), n); for (int i = 0; i < n; i++) r[i] = x[i] + dy[i]; cmp("add", y, r, 0);
    RUN(mul, elementwise(n), (const float*) x.data(), (const float*) dy.data(), y.data(), n); for (int i = 0; i < n; i++) r[i] = x[i] * dy[i]; cmp("mul", y, r, 0);
    RUN(scale, elementwise(n), (const float*) x.data(), 0.3f, y.data(), n); for (int i = 0; i < n; i++) r[i] = x[i] * 0.3f; cmp("scale", y, r, 0);
    float p = 0.3f; long long seed = 42; uint64_t sm = mix((uint64_t) seed); std::vector<float> mk(n), rmk(n);
    RUN(dropout_forward, elementwise(n), (const float*) x.data(), mk.data(), y.data(), n, p, 1.0f / (1.0f - p), (unsigned long long) sm);
    int kept = 0; for (long long i = 0; i < n; i++) { double u = (double)(mix(sm + (uint64_t) i * 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53; rmk[i] = u < p ? 0.f : 1.0f/(1.0f-p); r[i] = x[i]*rmk[i]; kept += rmk[i] != 0; }
    cmp("dropout_forward mask", mk, rmk, 0); cmp("dropout_forward y", y, r, 0); printf("  kept %d of %lld\n", kept, n);
  }
  { // embedding
    int b = 3, t = 8, c = 40, vocab = 17; std::vector<float> tok(b * t); for (auto& v : tok) v = (float) (rng() % vocab);
    auto wte = rnd(vocab * c), wpe = rnd(t * c); std::vector<float> out(b * t * c), ref(b * t * c);
    RUN(embedding_forward, elementwise((long long) b * t * c), (const float*) tok.data(), (const float*) wte.data(), (const float*) wpe.data(), out.data(), b * t, t, c);
    for (int i = 0; i < b * t; i++) for (int j = 0; j < c; j++) ref[i*c+j] = wte[(int) tok[i]*c+j] + wpe[(i%t)*c+j];
    cmp("embedding_forward", out, ref, 0);
    auto dout = rnd(b * t * c); auto dwte = rnd(vocab * c), dwpe = rnd(t * c); auto rwte = dwte, rwpe = dwpe;
    RUN(embedding_backward, perColumn(c), (const float*) tok.data(), (const float*) dout.data(), dwte.data(), dwpe.data(), b * t, t, c);
    for (int i = 0; i < b * t; i++) for (int j = 0; j < c; j++) { rwte[(int) tok[i]*c+j] += dout[i*c+j]; rwpe[(i%t)*c+j] += dout[i*c+j]; }
    cmp("embedding_backward dwte", dwte, rwte, 0); cmp("embedding_backward dwpe", dwpe, rwpe, 0);
  }
  for (int t : {9, 40}) { // causal softmax
    int rows = 4 * t; auto att = rnd(rows * t); auto ref = att;
    RUN(softmax_causal_forward, perRow(rows, t, 4), att.data(), rows, t);
    for (int r = 0; r < rows; r++) { int i = r % t; float* a = &ref[r*t]; float m = -INFINITY; for (int j = 0; j <= i; j++) m = std::max(m, a[j]); float s = 0; for (int j = 0; j <= i; j++) { float e = (float) std::exp(a[j]-m); a[j] = e; s += e; } float inv = 1.f/s; for (int j = 0; j <= i; j++) a[j] *= inv; for (int j = i+1; j < t; j++) a[j] = 0; }
    cmp(t == 9 ? "softmax_causal_forward t=9" : "softmax_causal_forward t=40", att, ref, 1e-6);
    auto da = rnd(rows * t); auto rda = da; float sc = 0.35f;
    RUN(softmax_causal_backward, perRow(rows, t, 4), (const float*) ref.data(), da.data(), rows, t, sc);
    for (int r = 0; r < rows; r++) { int i = r % t; const float* a = &ref[r*t]; float* d = &rda[r*t]; float dot = 0; for (int j = 0; j <= i; j++) dot += a[j]*d[j]; for (int j = 0; j <= i; j++) d[j] = a[j]*(d[j]-dot)*sc; for (int j = i+1; j < t; j++) d[j] = 0; }
    cmp("softmax_causal_backward", da, rda, 1e-5);
  }
  { // cross entropy
    int n = 12, v = 70; auto z = rnd(n * v); std::vector<float> tg(n); for (int i = 0; i < n; i++) tg[i] = i == 3 ? -1.f : (float) (rng() % v);
    std::vector<float> loss(n), dz(n * v), rl(n), rdz(n * v); float gs = 0.1f;
    RUN(cross_entropy, perRow(n, v, 8), (const float*) z.data(), (const float*) tg.data(), loss.data(), dz.data(), n, v, gs);
    for (int r = 0; r < n; r++) { int target = (int) tg[r]; if (target < 0) { rl[r] = 0; for (int j = 0; j < v; j++) rdz[r*v+j] = 0; continue; } float m = -INFINITY; for (int j = 0; j < v; j++) m = std::max(m, z[r*v+j]); double s = 0; for (int j = 0; j < v; j++) s += std::exp((double)(z[r*v+j]-m)); double lse = m + std::log(s); rl[r] = (float)(lse - z[r*v+target]); for (int j = 0; j < v; j++) { double p = std::exp(z[r*v+j]-lse); rdz[r*v+j] = (float)((p - (j == target ? 1.0 : 0.0))*gs); } }
    cmp("cross_entropy loss", loss, rl, 1e-6); cmp("cross_entropy dlogits", dz, rdz, 1e-6);
  }
  { // sum of squares
    long long n = 5000; auto x = rnd(n); std::vector<double> part(256);
    launch(sum_squares_partial, 256, 256, 2048, (const float*) x.data(), n, part.data());
    double s = 0; for (double p : part) s += p; double r = 0; for (auto f : x) r += (double) f * f;
    bool ok = std::fabs(s - r) <= 1e-9 * r; if (!ok) failures++; printf("%-28s %.12g vs %.12g %s\n", "sum_squares_partial", s, r, ok ? "ok" : "FAIL");
  }
  { // adamw
    long long n = 3000; auto p = rnd(n), g = rnd(n), m = rnd(n), v = rnd(n); for (auto& x : v) x = std::fabs(x);
    auto rp = p, rm = m, rv = v; float lr = 1e-3f, b1 = 0.9f, b2 = 0.99f, eps = 1e-8f, wd = 0.1f; int step = 3;
    float decay = 1 - lr * wd, bc1 = (float)(1 - std::pow(b1, step)), bc2 = (float) std::sqrt(1 - std::pow(b2, step)), ss = lr / bc1;
    RUN(adamw, elementwise(n), p.data(), (const float*) g.data(), m.data(), v.data(), n, b1, b2, eps, decay, ss, bc2);
    for (int i = 0; i < n; i++) { float gi = g[i]; float mi = rm[i]*b1+(1-b1)*gi; float vi = rv[i]*b2+(1-b2)*gi*gi; rm[i] = mi; rv[i] = vi; float den = (float) std::sqrt(vi)/bc2+eps; rp[i] = rp[i]*decay - ss*mi/den; }
    cmp("adamw param", p, rp, 0); cmp("adamw m", m, rm, 0); cmp("adamw v", v, rv, 0);
  }
  printf("%s (%d failures)\n", failures ? "FAILED" : "all kernels match", failures);
  return failures ? 1 : 0;
}
