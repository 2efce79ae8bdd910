// CUDA mask kernels: the counts behind dice_score / iou_score, the soft-Dice statistics and
// their gradient, and pairwise IoU / Dice of bit-packed masks. The per-pixel arithmetic
// (mask_math.h, common/fast_math.h) is the CPU kernels'.
#include <cuda_runtime.h>

#include <algorithm>

#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/cuda_launch.cuh"
#include "common/fast_math.h"
#include "masks/mask_math.h"
#include "masks/masks_cuda.h"

namespace cvk {
namespace masks {
namespace {

constexpr int kThreads = 256;
typedef unsigned long long ull;

constexpr int64_t kMaxGridY = 65535;  // the hardware's limit on grid.y and grid.z

inline unsigned blocks_for(int64_t n, int64_t cap = 4096) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > cap ? cap : b));
}

// grid.y = plane - plane0 (launched in slices of at most kMaxGridY planes); grid.x strides
// over the plane's pixels.
__global__ void binary_kernel(const uint8_t* __restrict__ p, const uint8_t* __restrict__ t,
                              int64_t size, ull* inter, ull* psum, ull* tsum, int64_t plane0) {
  const int64_t plane = plane0 + blockIdx.y;
  ull I = 0, P = 0, T = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < size;
       i += int64_t(gridDim.x) * blockDim.x) {
    const unsigned a = p[plane * size + i] != 0, b = t[plane * size + i] != 0;
    I += a & b;
    P += a;
    T += b;
  }
  warp_sum(I, P, T);
  if ((threadIdx.x & 31) == 0) {
    atomicAdd(inter + plane, I);
    atomicAdd(psum + plane, P);
    atomicAdd(tsum + plane, T);
  }
}

// grid.y = sample - n0 (slices of at most kMaxGridY samples); per-block histograms in shared
// memory (3 C counters).
__global__ void label_kernel(const int64_t* __restrict__ p, const int64_t* __restrict__ t,
                             int64_t size, int64_t C, int64_t ignore_index, ull* inter, ull* psum,
                             ull* tsum, int64_t* bad, int64_t n0) {
  extern __shared__ unsigned hist[];
  const int64_t n = n0 + blockIdx.y;
  for (int64_t k = threadIdx.x; k < 3 * C; k += blockDim.x) hist[k] = 0;
  __syncthreads();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < size;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t tv = t[n * size + i];
    if (tv == ignore_index) continue;
    const int64_t pv = p[n * size + i];
    if (static_cast<ull>(tv) >= static_cast<ull>(C) || static_cast<ull>(pv) >= static_cast<ull>(C)) {
      atomicCAS(reinterpret_cast<ull*>(bad), static_cast<ull>(-1LL), static_cast<ull>(n * size + i));
      continue;
    }
    if (pv == tv) atomicAdd(&hist[tv], 1u);
    atomicAdd(&hist[C + pv], 1u);
    atomicAdd(&hist[2 * C + tv], 1u);
  }
  __syncthreads();
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    if (hist[c]) atomicAdd(inter + n * C + c, static_cast<ull>(hist[c]));
    if (hist[C + c]) atomicAdd(psum + n * C + c, static_cast<ull>(hist[C + c]));
    if (hist[2 * C + c]) atomicAdd(tsum + n * C + c, static_cast<ull>(hist[2 * C + c]));
  }
}

template <class T>
__global__ void argmax_kernel(const T* __restrict__ x, int64_t N, int64_t C, int64_t size,
                              int64_t* __restrict__ out) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * size) return;
  const int64_t n = i / size, k = i % size;
  const T* base = x + n * C * size + k;
  T best = base[0];
  int64_t arg = 0;
  for (int64_t c = 1; c < C; ++c)
    if (base[c * size] > best) {
      best = base[c * size];
      arg = c;
    }
  out[i] = arg;
}

template <class T>
__device__ inline T act_exp(T v);
template <>
__device__ inline float act_exp<float>(float v) { return fast_expf(v); }
template <>
__device__ inline double act_exp<double>(double v) { return exp(v); }

// Probabilities of pixel (n, k) into p[0..C) (C <= kMaxC on this path).
constexpr int kMaxC = 64;
template <class T>
__device__ inline void pixel_probs(const T* x, int64_t C, int64_t size, int activation, T* p) {
  if (activation == kActSoftmax) {
    T mx = x[0];
    for (int64_t c = 1; c < C; ++c) mx = x[c * size] > mx ? x[c * size] : mx;
    T sum = 0;
    for (int64_t c = 0; c < C; ++c) {
      p[c] = act_exp<T>(x[c * size] - mx);
      sum += p[c];
    }
    if constexpr (std::is_same<T, float>::value) {  // as the CPU's float path: times 1 / sum
      const T inv = T(1) / sum;
      for (int64_t c = 0; c < C; ++c) p[c] *= inv;
    } else {
      for (int64_t c = 0; c < C; ++c) p[c] /= sum;
    }
  } else {
    for (int64_t c = 0; c < C; ++c)
      p[c] = activation == kActSigmoid ? T(1) / (T(1) + act_exp<T>(-x[c * size])) : x[c * size];
  }
}

// Each block writes its (C, 3) partial sums; a second kernel adds the blocks in order.
template <class T>
__global__ void dice_stats_kernel(const T* __restrict__ x, const int64_t* __restrict__ labels,
                                  const T* __restrict__ dense, int64_t N, int64_t C, int64_t size,
                                  int activation, int64_t ignore_index, double* __restrict__ partial) {
  extern __shared__ double acc[];  // (C, 3)
  for (int64_t k = threadIdx.x; k < 3 * C; k += blockDim.x) acc[k] = 0;
  __syncthreads();
  T p[kMaxC];
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * size;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / size, k = i % size;
    pixel_probs(x + n * C * size + k, C, size, activation, p);
    const int64_t lab = labels ? labels[i] : -1;
    const T keep = (labels && lab == ignore_index) ? T(0) : T(1);
    for (int64_t c = 0; c < C; ++c) {
      const T tc = labels ? (lab == c ? keep : T(0)) : dense[n * C * size + c * size + k];  // ignored: no target
      atomicAdd(&acc[3 * c], double(p[c] * tc));
      atomicAdd(&acc[3 * c + 1], double(p[c] * keep));
      atomicAdd(&acc[3 * c + 2], double(tc));
    }
  }
  __syncthreads();
  for (int64_t k = threadIdx.x; k < 3 * C; k += blockDim.x) partial[blockIdx.x * 3 * C + k] = acc[k];
}

__global__ void reduce_blocks_kernel(const double* __restrict__ partial, int64_t blocks,
                                     int64_t width, double* __restrict__ out) {
  const int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (k >= width) return;
  double s = 0;
  for (int64_t b = 0; b < blocks; ++b) s += partial[b * width + k];
  out[k] = s;
}

template <class T>
__global__ void dice_backward_kernel(const T* __restrict__ x, const int64_t* __restrict__ labels,
                                     const T* __restrict__ dense, int64_t N, int64_t C, int64_t size,
                                     int activation, int64_t ignore_index, const double* __restrict__ g,
                                     T* __restrict__ gx) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * size) return;
  const int64_t n = i / size, k = i % size;
  const int64_t o = n * C * size + k;
  T p[kMaxC], gp[kMaxC];
  pixel_probs(x + o, C, size, activation, p);
  const int64_t lab = labels ? labels[i] : -1;
  const T keep = (labels && lab == ignore_index) ? T(0) : T(1);
  T dot = 0;
  for (int64_t c = 0; c < C; ++c) {
    const T tc = labels ? (lab == c ? keep : T(0)) : dense[o + c * size];
    gp[c] = T(g[3 * c]) * tc + T(g[3 * c + 1]) * keep;
    dot += p[c] * gp[c];
  }
  for (int64_t c = 0; c < C; ++c) {
    T v = gp[c];
    if (activation == kActSoftmax) v = p[c] * (gp[c] - dot);
    if (activation == kActSigmoid) v = gp[c] * p[c] * (T(1) - p[c]);
    gx[o + c * size] = v;
  }
}

// One thread per word: 64 bytes -> 64 bits.
__global__ void pack_kernel(const uint8_t* __restrict__ m, int64_t masks, int64_t H, int64_t W,
                            uint64_t* __restrict__ bits) {
  const int64_t wpr = (W + 63) / 64;
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= masks * H * wpr) return;
  const int64_t w = i % wpr, r = (i / wpr) % H, k = i / (wpr * H);
  const uint8_t* row = m + (k * H + r) * W;
  uint64_t v = 0;
  for (int64_t b = w * 64; b < W && b < w * 64 + 64; ++b) v |= uint64_t(row[b] != 0) << (b - w * 64);
  bits[i] = v;
}

// One thread per mask: bounding box (rows r0..r1, words w0..w1) and area.
__global__ void info_kernel(const uint64_t* __restrict__ bits, int64_t masks, int64_t H, int64_t wpr,
                            int64_t* __restrict__ info) {
  const int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (k >= masks) return;
  int64_t r0 = H, r1 = 0, w0 = wpr, w1 = 0, area = 0;
  for (int64_t r = 0; r < H; ++r)
    for (int64_t w = 0; w < wpr; ++w) {
      const uint64_t v = bits[(k * H + r) * wpr + w];
      if (!v) continue;
      area += __popcll(v);
      r0 = min(r0, r);
      r1 = max(r1, r + 1);
      w0 = min(w0, w);
      w1 = max(w1, w + 1);
    }
  int64_t* o = info + 5 * k;
  o[0] = r0;
  o[1] = r1;
  o[2] = w0;
  o[3] = w1;
  o[4] = area;
}

template <class T>
__global__ void pairs_kernel(const uint64_t* __restrict__ ba, const uint64_t* __restrict__ bb,
                             const int64_t* __restrict__ ia, const int64_t* __restrict__ ib,
                             int64_t N, int64_t M, int64_t H, int64_t wpr, bool dice,
                             T* __restrict__ out) {
  const int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (t >= N * M) return;
  const int64_t i = t / M, j = t % M;
  const int64_t* x = ia + 5 * i;
  const int64_t* y = ib + 5 * j;
  const int64_t r0 = max(x[0], y[0]), r1 = min(x[1], y[1]);
  const int64_t w0 = max(x[2], y[2]), w1 = min(x[3], y[3]);
  int64_t inter = 0;
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t w = w0; w < w1; ++w)
      inter += __popcll(ba[(i * H + r) * wpr + w] & bb[(j * H + r) * wpr + w]);
  const T I = T(inter), A = T(x[4]), B = T(y[4]);
  out[t] = dice ? dice_of(I, A, B, T(0), T(0)) : iou_of(I, A, B, T(0), T(0));
}

}  // namespace

void binary_counts_cuda(const uint8_t* p, const uint8_t* t, int64_t n, int64_t size,
                        int64_t* inter, int64_t* psum, int64_t* tsum, void* stream) {
  for (int64_t* v : {inter, psum, tsum}) check_cuda(cudaMemsetAsync(v, 0, n * sizeof(int64_t), as_stream(stream)), "memset");
  if (n == 0 || size == 0) return;
  for (int64_t p0 = 0; p0 < n; p0 += kMaxGridY) {
    dim3 grid(blocks_for(size, 256), static_cast<unsigned>(std::min(n - p0, kMaxGridY)));
    binary_kernel<<<grid, kThreads, 0, as_stream(stream)>>>(p, t, size, reinterpret_cast<ull*>(inter),
                                                            reinterpret_cast<ull*>(psum),
                                                            reinterpret_cast<ull*>(tsum), p0);
  }
  check_launch("mask binary counts");
}

void label_counts_cuda(const int64_t* p, const int64_t* t, int64_t N, int64_t size, int64_t C,
                       int64_t ignore_index, int64_t* inter, int64_t* psum, int64_t* tsum,
                       int64_t* bad, void* stream) {
  for (int64_t* v : {inter, psum, tsum})
    check_cuda(cudaMemsetAsync(v, 0, N * C * sizeof(int64_t), as_stream(stream)), "memset");
  check_cuda(cudaMemsetAsync(bad, 0xff, sizeof(int64_t), as_stream(stream)), "memset");
  if (N == 0 || size == 0) return;
  const size_t shared = static_cast<size_t>(3 * C) * sizeof(unsigned);
  if (shared > 48 * 1024) throw std::invalid_argument("cvkernels: CUDA label counts support up to 4096 classes");
  for (int64_t n0 = 0; n0 < N; n0 += kMaxGridY) {
    dim3 grid(blocks_for(size, 256), static_cast<unsigned>(std::min(N - n0, kMaxGridY)));
    label_kernel<<<grid, kThreads, shared, as_stream(stream)>>>(
        p, t, size, C, ignore_index, reinterpret_cast<ull*>(inter), reinterpret_cast<ull*>(psum),
        reinterpret_cast<ull*>(tsum), bad, n0);
  }
  check_launch("mask label counts");
}

void argmax_channels_cuda(int dtype, const void* x, int64_t N, int64_t C, int64_t size,
                          int64_t* out, void* stream) {
  if (N * size == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    argmax_kernel<T><<<static_cast<unsigned>((N * size + kThreads - 1) / kThreads), kThreads, 0,
                       as_stream(stream)>>>(static_cast<const T*>(x), N, C, size, out);
  });
  check_launch("mask argmax");
}

int64_t dice_stats_blocks(int64_t pixels) { return blocks_for(pixels, 1024); }

void dice_stats_cuda(int dtype, const void* x, const int64_t* labels, const void* dense,
                     int64_t N, int64_t C, int64_t size, int activation, int64_t ignore_index,
                     double* partial, double* stats, void* stream) {
  if (C > kMaxC) throw std::invalid_argument("cvkernels: CUDA dice statistics support up to 64 classes");
  check_cuda(cudaMemsetAsync(stats, 0, 3 * C * sizeof(double), as_stream(stream)), "memset");
  if (N * size == 0 || C == 0) return;
  const int64_t blocks = dice_stats_blocks(N * size);
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dice_stats_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 3 * C * sizeof(double), as_stream(stream)>>>(
        static_cast<const T*>(x), labels, static_cast<const T*>(dense), N, C, size, activation,
        ignore_index, partial);
  });
  reduce_blocks_kernel<<<static_cast<unsigned>((3 * C + kThreads - 1) / kThreads), kThreads, 0,
                         as_stream(stream)>>>(partial, blocks, 3 * C, stats);
  check_launch("dice statistics");
}

void dice_stats_backward_cuda(int dtype, const void* x, const int64_t* labels,
                              const void* dense, int64_t N, int64_t C, int64_t size,
                              int activation, int64_t ignore_index, const double* grad_stats,
                              void* grad_x, void* stream) {
  if (C > kMaxC) throw std::invalid_argument("cvkernels: CUDA dice statistics support up to 64 classes");
  if (N * size == 0 || C == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dice_backward_kernel<T><<<static_cast<unsigned>((N * size + kThreads - 1) / kThreads), kThreads, 0,
                              as_stream(stream)>>>(static_cast<const T*>(x), labels,
                                                   static_cast<const T*>(dense), N, C, size, activation,
                                                   ignore_index, grad_stats, static_cast<T*>(grad_x));
  });
  check_launch("dice statistics backward");
}

void pairwise_masks_cuda(const uint8_t* a, int64_t N, const uint8_t* b, int64_t M, int64_t H,
                         int64_t W, bool dice, int dtype, void* out, uint64_t* bits,
                         int64_t* info, void* stream) {
  if (N == 0 || M == 0) return;
  const int64_t wpr = (W + 63) / 64;
  uint64_t* ba = bits;
  uint64_t* bb = bits + N * H * wpr;
  auto grid_for = [](int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); };
  if (N * H * wpr) pack_kernel<<<grid_for(N * H * wpr), kThreads, 0, as_stream(stream)>>>(a, N, H, W, ba);
  if (M * H * wpr) pack_kernel<<<grid_for(M * H * wpr), kThreads, 0, as_stream(stream)>>>(b, M, H, W, bb);
  info_kernel<<<grid_for(N), kThreads, 0, as_stream(stream)>>>(ba, N, H, wpr, info);
  info_kernel<<<grid_for(M), kThreads, 0, as_stream(stream)>>>(bb, M, H, wpr, info + 5 * N);
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    pairs_kernel<T><<<grid_for(N * M), kThreads, 0, as_stream(stream)>>>(
        ba, bb, info, info + 5 * N, N, M, H, wpr, dice, static_cast<T*>(out));
  });
  check_launch("pairwise masks");
}

}  // namespace masks
}  // namespace cvk
