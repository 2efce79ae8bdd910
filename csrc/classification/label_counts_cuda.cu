// Label counting kernels on the GPU: label_counts_cuda.h states what they compute.
//
// Each block strides over the samples and counts into per-block histograms in shared memory
// (32-bit counters: a block sees fewer than 2^32 samples) when they fit, then adds its nonzero
// counters to the float64 totals with atomicAdd. Confusion matrices too large for shared
// memory count straight into global memory. Multilabel rows: per label, each thread takes the
// same column of successive rows (coalesced loads of adjacent columns); per sample, one warp
// reads a row and adds its lanes with shuffles. Cost: one read of the labels, O(K) (or O(K^2))
// atomics per block.
#include <cuda_runtime.h>

#include <algorithm>

#include "classification/label_counts.h"
#include "classification/label_counts_cuda.h"
#include "common/cuda_launch.cuh"

namespace cvk {
namespace classification {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kSharedBytes = 48 * 1024;  // without opting in to more

// Blocks for n items: enough to fill the GPU, few enough that each block's histogram is
// worth flushing, and never so few that one block counts 2^32 samples.
unsigned blocks_for(int64_t n, int64_t per_block = 8 * kThreads) {
  int64_t b = (n + per_block - 1) / per_block;
  b = std::max<int64_t>(b, (n >> 30) + 1);
  return static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(b, 1), 4096));
}

__device__ void flush(const unsigned* hist, int64_t m, double* out) {
  for (int64_t k = threadIdx.x; k < m; k += blockDim.x)
    if (hist[k]) atomicAdd(out + k, static_cast<double>(hist[k]));
}

// Per class: hist = [tp (K) | true (K) | pred (K)] in shared memory.
__global__ void class_sums_kernel(const int64_t* __restrict__ t, const int64_t* __restrict__ p, int64_t n,
                                  int64_t lo, int64_t K, double* tp, double* ts, double* ps) {
  extern __shared__ unsigned hist[];
  for (int64_t k = threadIdx.x; k < 3 * K; k += blockDim.x) hist[k] = 0;
  __syncthreads();
  const uint64_t k = static_cast<uint64_t>(K);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t a = label_offset(t[i], lo), b = label_offset(p[i], lo);
    if (a < k) {
      atomicAdd(&hist[K + a], 1u);
      if (a == b) atomicAdd(&hist[a], 1u);
    }
    if (b < k) atomicAdd(&hist[2 * K + b], 1u);
  }
  __syncthreads();
  flush(hist, K, tp);
  flush(hist + K, K, ts);
  flush(hist + 2 * K, K, ps);
}

// Without shared memory (more classes than fit): straight into the totals.
__global__ void class_sums_global_kernel(const int64_t* __restrict__ t, const int64_t* __restrict__ p, int64_t n,
                                         int64_t lo, int64_t K, double* tp, double* ts, double* ps) {
  const uint64_t k = static_cast<uint64_t>(K);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t a = label_offset(t[i], lo), b = label_offset(p[i], lo);
    if (a < k) {
      atomicAdd(ts + a, 1.0);
      if (a == b) atomicAdd(tp + a, 1.0);
    }
    if (b < k) atomicAdd(ps + b, 1.0);
  }
}

// (K, K) pairs; shared = whether the matrix is counted in shared memory first.
template <bool shared>
__global__ void confusion_kernel(const int64_t* __restrict__ t, const int64_t* __restrict__ p, int64_t n, int64_t lo,
                                 int64_t K, double* out) {
  extern __shared__ unsigned hist[];
  if (shared) {
    for (int64_t k = threadIdx.x; k < K * K; k += blockDim.x) hist[k] = 0;
    __syncthreads();
  }
  const uint64_t k = static_cast<uint64_t>(K);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t a = label_offset(t[i], lo), b = label_offset(p[i], lo);
    if (a < k && b < k) {
      if (shared)
        atomicAdd(&hist[a * k + b], 1u);
      else
        atomicAdd(out + a * k + b, 1.0);
    }
  }
  if (shared) {
    __syncthreads();
    flush(hist, K * K, out);
  }
}

// Per label of (n, L) indicators: thread x of the block takes columns x, x + blockDim.x, ...
// of the rows blockIdx.y, blockIdx.y + gridDim.y, ...; its totals go to the outputs once.
__global__ void indicator_columns_kernel(const uint8_t* __restrict__ t, const uint8_t* __restrict__ p, int64_t n,
                                         int64_t L, double* tp, double* ts, double* ps) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < L; j += int64_t(gridDim.x) * blockDim.x) {
    unsigned long long a = 0, s = 0, q = 0;
    for (int64_t i = blockIdx.y; i < n; i += gridDim.y) {
      const bool tj = t[i * L + j] != 0, pj = p[i * L + j] != 0;
      a += tj && pj;
      s += tj;
      q += pj;
    }
    if (a) atomicAdd(tp + j, static_cast<double>(a));
    if (s) atomicAdd(ts + j, static_cast<double>(s));
    if (q) atomicAdd(ps + j, static_cast<double>(q));
  }
}

// Per sample: one warp per row, lanes over its columns, then a shuffle sum; no atomics (each
// row is written by its own warp).
__global__ void indicator_rows_kernel(const uint8_t* __restrict__ t, const uint8_t* __restrict__ p, int64_t n,
                                      int64_t L, double* tp, double* ts, double* ps) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32; i < n; i += warps) {
    unsigned long long a = 0, s = 0, q = 0;
    for (int64_t j = lane; j < L; j += 32) {
      const bool tj = t[i * L + j] != 0, pj = p[i * L + j] != 0;
      a += tj && pj;
      s += tj;
      q += pj;
    }
    warp_sum(a, s, q);
    if (lane == 0) {
      tp[i] = static_cast<double>(a);
      ts[i] = static_cast<double>(s);
      ps[i] = static_cast<double>(q);
    }
  }
}

void zero(double* x, int64_t m, cudaStream_t s) {
  check_cuda(cudaMemsetAsync(x, 0, static_cast<size_t>(m) * sizeof(double), s), "memset");
}

}  // namespace

void class_sums_cuda(const int64_t* y_true, const int64_t* y_pred, int64_t n, int64_t lo, int64_t K, double* tp,
                     double* true_sum, double* pred_sum, void* stream) {
  const cudaStream_t s = as_stream(stream);
  for (double* x : {tp, true_sum, pred_sum}) zero(x, K, s);
  if (n == 0) return;
  const int64_t shared = 3 * K * int64_t(sizeof(unsigned));
  if (shared <= kSharedBytes)
    class_sums_kernel<<<blocks_for(n), kThreads, static_cast<size_t>(shared), s>>>(y_true, y_pred, n, lo, K, tp,
                                                                                   true_sum, pred_sum);
  else
    class_sums_global_kernel<<<blocks_for(n), kThreads, 0, s>>>(y_true, y_pred, n, lo, K, tp, true_sum, pred_sum);
  check_launch("class sums");
}

void confusion_counts_cuda(const int64_t* y_true, const int64_t* y_pred, int64_t n, int64_t lo, int64_t K,
                           double* out, void* stream) {
  const cudaStream_t s = as_stream(stream);
  zero(out, K * K, s);
  if (n == 0) return;
  const int64_t shared = K * K * int64_t(sizeof(unsigned));
  if (shared <= kSharedBytes)
    confusion_kernel<true><<<blocks_for(n), kThreads, static_cast<size_t>(shared), s>>>(y_true, y_pred, n, lo, K, out);
  else
    confusion_kernel<false><<<blocks_for(n), kThreads, 0, s>>>(y_true, y_pred, n, lo, K, out);
  check_launch("confusion counts");
}

void indicator_sums_cuda(const uint8_t* y_true, const uint8_t* y_pred, int64_t n, int64_t L, bool samplewise,
                         double* tp, double* true_sum, double* pred_sum, void* stream) {
  const cudaStream_t s = as_stream(stream);
  const int64_t m = samplewise ? n : L;
  for (double* x : {tp, true_sum, pred_sum}) zero(x, m, s);
  if (n == 0 || L == 0) return;
  if (samplewise) {
    indicator_rows_kernel<<<blocks_for(n * 32, kThreads), kThreads, 0, s>>>(y_true, y_pred, n, L, tp, true_sum,
                                                                            pred_sum);
  } else {
    const unsigned cols = static_cast<unsigned>(std::min<int64_t>((L + kThreads - 1) / kThreads, 4096));
    // rows split so that about 1024 blocks run in all (at least one row each)
    const unsigned rows = static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>({n, 65535, 1024 / cols})));
    indicator_columns_kernel<<<dim3(cols, rows), kThreads, 0, s>>>(y_true, y_pred, n, L, tp, true_sum, pred_sum);
  }
  check_launch("indicator sums");
}

}  // namespace classification
}  // namespace cvk
