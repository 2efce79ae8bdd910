// CUDA dilated convolution.
//
// Forward: implicit GEMM. Per image and group, out (cout x P) = w (cout x K) * columns (K x P);
// a block computes a 64 x 64 tile of out with 256 threads (4 x 4 outputs each), stepping
// through K 16 at a time: the weight tile and the column tile (gathered from the image on the
// fly, zero outside it, never stored) go through shared memory.
// Backward, input: one thread per input pixel (n, ci, ih, iw) sums, in a fixed order over
// (co, kh, kw), grad_out at the output pixels whose tap (kh, kw) lands on it.
// Backward, weight and bias: one block per weight (or bias) element reduces over every
// (n, output pixel) with a fixed tree, so the results do not vary from run to run.
#include <cuda_runtime.h>

#include <algorithm>

#include <stdexcept>
#include <string>

#include "common/cuda_launch.cuh"
#include "common/cvk.h"
#include "conv/conv_cuda.h"

namespace cvk {
namespace conv {
namespace {

constexpr int kTile = 64, kDepth = 16, kThreads = 256;

// Column value (k, p) of one group's channels of image x: the input pixel that tap k of output
// pixel p reads, 0 outside the image.
template <class T>
__device__ inline T column(const T* x, const ConvShape& s, int64_t k, int64_t p) {
  const int64_t ci = k / (s.KH * s.KW), r = k % (s.KH * s.KW);
  const int64_t ih = (p / s.Wo) * s.sh - s.pt + (r / s.KW) * s.dh;
  const int64_t iw = (p % s.Wo) * s.sw - s.pl + (r % s.KW) * s.dw;
  return (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W) ? x[(ci * s.H + ih) * s.W + iw] : T(0);
}

// grid: (P tiles, cout tiles, a slice of N * G starting at z0: at most 65535 per launch)
template <class T>
__global__ void forward_kernel(const T* x, const T* w, const T* bias, T* out, ConvShape s, int64_t z0) {
  __shared__ T wt[kDepth][kTile + 1];
  __shared__ T ct[kDepth][kTile];
  const int64_t G = s.groups, cin = s.Cin / G, cout = s.Cout / G;
  const int64_t K = cin * s.KH * s.KW, P = s.Ho * s.Wo;
  const int64_t z = z0 + blockIdx.z, n = z / G, g = z % G;
  const int64_t p0 = static_cast<int64_t>(blockIdx.x) * kTile, c0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const T* xg = x + (n * s.Cin + g * cin) * s.H * s.W;
  const T* wg = w + g * cout * K;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;  // 16 x 16 threads, 4 x 4 outputs each
  T acc[4][4] = {};
  for (int64_t k0 = 0; k0 < K; k0 += kDepth) {
    for (int i = threadIdx.x; i < kDepth * kTile; i += kThreads) {
      const int kk = i % kDepth, m = i / kDepth;  // weight tile: rows c0 + m, columns k0 + kk
      const int64_t co = c0 + m, k = k0 + kk;
      wt[kk][m] = (co < cout && k < K) ? wg[co * K + k] : T(0);
      const int pp = i % kTile, kr = i / kTile;  // column tile: rows k0 + kr, pixels p0 + pp
      ct[kr][pp] = (k0 + kr < K && p0 + pp < P) ? column(xg, s, k0 + kr, p0 + pp) : T(0);
    }
    __syncthreads();
    for (int kk = 0; kk < kDepth; ++kk) {
      T a[4], b[4];
      for (int i = 0; i < 4; ++i) a[i] = wt[kk][ty * 4 + i];
      for (int j = 0; j < 4; ++j) b[j] = ct[kk][tx * 4 + j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; ++i) {
    const int64_t co = c0 + ty * 4 + i;
    if (co >= cout) continue;
    const T b = bias ? bias[g * cout + co] : T(0);
    T* o = out + (n * s.Cout + g * cout + co) * P;
    for (int j = 0; j < 4; ++j) {
      const int64_t p = p0 + tx * 4 + j;
      if (p < P) o[p] = acc[i][j] + b;
    }
  }
}

// One thread per input element (n, c, ih, iw).
template <class T>
__global__ void grad_input_kernel(const T* gout, const T* w, T* gx, ConvShape s) {
  const int64_t total = s.N * s.Cin * s.H * s.W;
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t iw = idx % s.W, ih = (idx / s.W) % s.H, c = (idx / (s.W * s.H)) % s.Cin;
  const int64_t n = idx / (s.W * s.H * s.Cin);
  const int64_t G = s.groups, cin = s.Cin / G, cout = s.Cout / G, g = c / cin, ci = c % cin;
  const int64_t P = s.Ho * s.Wo;
  T acc = 0;
  for (int64_t co = 0; co < cout; ++co) {
    const T* go = gout + (n * s.Cout + g * cout + co) * P;
    const T* wk = w + ((g * cout + co) * cin + ci) * s.KH * s.KW;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t y = ih + s.pt - kh * s.dh;  // = oh * sh
      if (y < 0 || y % s.sh) continue;
      const int64_t oh = y / s.sh;
      if (oh >= s.Ho) continue;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t xx = iw + s.pl - kw * s.dw;
        if (xx < 0 || xx % s.sw) continue;
        const int64_t ow = xx / s.sw;
        if (ow < s.Wo) acc += wk[kh * s.KW + kw] * go[oh * s.Wo + ow];
      }
    }
  }
  gx[idx] = acc;
}

// Sums of a block's kThreads partial sums, in a fixed tree.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T buf[kThreads];
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) buf[threadIdx.x] += buf[threadIdx.x + half];
    __syncthreads();
  }
  return buf[0];
}

// One block per weight element (co, k) of the Cout x K weight matrix.
template <class T>
__global__ void grad_weight_kernel(const T* gout, const T* x, T* gw, ConvShape s) {
  const int64_t G = s.groups, cin = s.Cin / G, cout = s.Cout / G;
  const int64_t K = cin * s.KH * s.KW, P = s.Ho * s.Wo;
  const int64_t co = blockIdx.x / K, k = blockIdx.x % K, g = co / cout;
  T acc = 0;
  for (int64_t n = 0; n < s.N; ++n) {
    const T* go = gout + (n * s.Cout + co) * P;
    const T* xg = x + (n * s.Cin + g * cin) * s.H * s.W;
    for (int64_t p = threadIdx.x; p < P; p += kThreads) acc += go[p] * column(xg, s, k, p);
  }
  const T total = block_sum(acc);
  if (threadIdx.x == 0) gw[blockIdx.x] = total;
}

template <class T>
__global__ void grad_bias_kernel(const T* gout, T* gb, ConvShape s) {
  const int64_t co = blockIdx.x, P = s.Ho * s.Wo;
  T acc = 0;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t p = threadIdx.x; p < P; p += kThreads) acc += gout[(n * s.Cout + co) * P + p];
  const T total = block_sum(acc);
  if (threadIdx.x == 0) gb[co] = total;
}

}  // namespace

void conv2d_forward_cuda(int dtype, const void* x, const void* w, const void* bias, void* out,
                         const ConvShape& s, void* stream) {
  const int64_t P = s.Ho * s.Wo, cout = s.Cout / s.groups;
  if (s.N == 0 || s.Cout == 0 || P == 0) return;
  constexpr int64_t kMaxGridZ = 65535;
  const int64_t Z = s.N * s.groups;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    for (int64_t z0 = 0; z0 < Z; z0 += kMaxGridZ) {
      const dim3 grid(static_cast<unsigned>((P + kTile - 1) / kTile), static_cast<unsigned>((cout + kTile - 1) / kTile),
                      static_cast<unsigned>(std::min(Z - z0, kMaxGridZ)));
      forward_kernel<T><<<grid, kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(bias), static_cast<T*>(out), s, z0);
    }
  });
  check_launch("dilated_conv2d forward");
}

void conv2d_backward_cuda(int dtype, const void* grad_out, const void* x, const void* w,
                          void* grad_x, void* grad_w, void* grad_b, const ConvShape& s, void* stream) {
  const int64_t nx = s.N * s.Cin * s.H * s.W;
  const int64_t nw = s.Cout * (s.Cin / s.groups) * s.KH * s.KW;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* go = static_cast<const T*>(grad_out);
    if (grad_x && nx > 0)
      grad_input_kernel<T><<<static_cast<unsigned>((nx + kThreads - 1) / kThreads), kThreads, 0,
                             as_stream(stream)>>>(go, static_cast<const T*>(w), static_cast<T*>(grad_x), s);
    if (grad_w && nw > 0)
      grad_weight_kernel<T><<<static_cast<unsigned>(nw), kThreads, 0, as_stream(stream)>>>(
          go, static_cast<const T*>(x), static_cast<T*>(grad_w), s);
    if (grad_b && s.Cout > 0)
      grad_bias_kernel<T><<<static_cast<unsigned>(s.Cout), kThreads, 0, as_stream(stream)>>>(
          go, static_cast<T*>(grad_b), s);
  });
  check_launch("dilated_conv2d backward");
}

}  // namespace conv
}  // namespace cvk
