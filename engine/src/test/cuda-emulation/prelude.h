#pragma once
// Emulates the CUDA execution model on CPU threads (one std::thread per CUDA thread, a barrier
// per block) so the kernel source can be executed without a GPU.
#include <barrier>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>
#define __global__
#define __device__
struct dim3 { unsigned int x = 1, y = 1, z = 1; };
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
thread_local std::barrier<>* g_barrier;
thread_local char* g_shared;
inline void __syncthreads() { g_barrier->arrive_and_wait(); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
using std::exp; using std::fmax; using std::log; using std::sqrt; using std::tanh;
