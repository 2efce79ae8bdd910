// Ranking summaries on the GPU (ranking_cuda.h). Algorithm, for an (N, C) score matrix:
//   1. split: each score becomes its order-preserving integer key (common/radix_sort.h's
//      float_key, -0.0 and +0.0 one key) in column-major order, with a 0/1 positive flag;
//   2. sort each column's keys in descending order, the flags along (cub's radix sort: one
//      sort for one column, a segmented sort for many);
//   3. scan: one thread per column counts its positives, then walks its sorted keys, and at
//      the last sample of each distinct key hands the cumulative (tp, fp) to RankSummary
//      (ranking.h), the very arithmetic of the CPU walk, in the same order.
// Ties may come out of the sort in any order: only the totals at the end of a run of equal
// keys are used, and those do not depend on it. Cost: O(N C) for the split and the scan,
// the radix sort's passes over the keys; the scan is sequential within a column.
#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "classification/ranking.h"
#include "classification/ranking_cuda.h"
#include "common/cuda_launch.cuh"
#include "common/radix_sort.h"

namespace cvk {
namespace classification {
namespace {

constexpr int kThreads = 256;

template <class F, class K>
__global__ void split_kernel(const F* __restrict__ score, int64_t N, int64_t C, const int64_t* __restrict__ labels,
                             const uint8_t* __restrict__ indicator, K* keys, uint8_t* flags) {
  const int64_t total = N * C;
  for (int64_t at = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; at < total; at += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = at / C, c = at % C;
    keys[c * N + i] = float_key(score[at]);
    flags[c * N + i] = labels ? uint8_t(labels[i] == c) : uint8_t(indicator[at] != 0);
  }
}

__global__ void offsets_kernel(int64_t N, int64_t C, int* offsets) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c <= C) offsets[c] = static_cast<int>(c * N);
}

template <class K, class Area>
__global__ void scan_kernel(const K* __restrict__ keys, const uint8_t* __restrict__ flags, int64_t N, int64_t C,
                            double max_fpr, double* npos, double* nneg, double* auc, double* pauc, double* ap) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= C) return;
  const K* k = keys + c * N;
  const uint8_t* f = flags + c * N;
  int64_t P = 0;
  for (int64_t i = 0; i < N; ++i) P += f[i];
  npos[c] = double(P);
  nneg[c] = double(N - P);
  RankSummary<int64_t, Area> sum(double(P), double(N - P), max_fpr, pauc != nullptr);
  int64_t tp = 0, fp = 0;
  for (int64_t i = 0; i < N; ++i) {
    tp += f[i];
    fp += 1 - f[i];
    if (i + 1 == N || k[i + 1] != k[i]) sum.step(tp, fp);  // the last sample of this score
  }
  sum.finish(auc ? auc + c : nullptr, pauc ? pauc + c : nullptr, ap ? ap + c : nullptr);
}

// The scratch layout: keys in / out (N C each), flags in / out, C + 1 segment offsets, then
// cub's temporary storage; each part 256-byte aligned.
struct Layout {
  int64_t keys_in, keys_out, flags_in, flags_out, offsets, temp, temp_bytes, total;
};

inline int64_t align_up(int64_t x) { return (x + 255) & ~int64_t(255); }

template <class K>
Layout layout(int64_t N, int64_t C) {
  if (N * C >= (int64_t(1) << 31)) throw std::invalid_argument("cvkernels: CUDA ranking needs N * C below 2^31");
  Layout l;
  const int64_t n = N * C;
  l.keys_in = 0;
  l.keys_out = align_up(l.keys_in + n * int64_t(sizeof(K)));
  l.flags_in = align_up(l.keys_out + n * int64_t(sizeof(K)));
  l.flags_out = align_up(l.flags_in + n);
  l.offsets = align_up(l.flags_out + n);
  l.temp = align_up(l.offsets + (C + 1) * int64_t(sizeof(int)));
  size_t bytes = 0;
  cudaError_t err;
  if (C == 1)
    err = cub::DeviceRadixSort::SortPairsDescending(nullptr, bytes, static_cast<const K*>(nullptr),
                                                    static_cast<K*>(nullptr), static_cast<const uint8_t*>(nullptr),
                                                    static_cast<uint8_t*>(nullptr), static_cast<int>(n));
  else
    err = cub::DeviceSegmentedRadixSort::SortPairsDescending(
        nullptr, bytes, static_cast<const K*>(nullptr), static_cast<K*>(nullptr),
        static_cast<const uint8_t*>(nullptr), static_cast<uint8_t*>(nullptr), static_cast<int>(n),
        static_cast<int>(C), static_cast<const int*>(nullptr), static_cast<const int*>(nullptr));
  check_cuda(err, "radix sort sizing");
  l.temp_bytes = static_cast<int64_t>(bytes);
  l.total = align_up(l.temp + l.temp_bytes);
  return l;
}

template <class F>
void run(const F* score, int64_t N, int64_t C, const int64_t* labels, const uint8_t* indicator, double max_fpr,
         double* npos, double* nneg, double* auc, double* pauc, double* ap, void* scratch, int64_t scratch_bytes,
         cudaStream_t s) {
  using K = typename KeyOf<F>::type;
  const Layout l = layout<K>(N, C);
  if (scratch_bytes < l.total) throw std::invalid_argument("cvkernels: CUDA ranking scratch is too small");
  char* base = static_cast<char*>(scratch);
  K* keys_in = reinterpret_cast<K*>(base + l.keys_in);
  K* keys_out = reinterpret_cast<K*>(base + l.keys_out);
  uint8_t* flags_in = reinterpret_cast<uint8_t*>(base + l.flags_in);
  uint8_t* flags_out = reinterpret_cast<uint8_t*>(base + l.flags_out);
  int* offsets = reinterpret_cast<int*>(base + l.offsets);
  const int64_t n = N * C;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65536));
  split_kernel<F, K><<<blocks, kThreads, 0, s>>>(score, N, C, labels, indicator, keys_in, flags_in);
  check_launch("ranking split");
  size_t temp_bytes = static_cast<size_t>(l.temp_bytes);
  if (C == 1) {
    check_cuda(cub::DeviceRadixSort::SortPairsDescending(base + l.temp, temp_bytes, keys_in, keys_out, flags_in,
                                                         flags_out, static_cast<int>(n), 0, int(sizeof(K) * 8), s),
               "radix sort");
  } else {
    // (the offsets typed as in layout()'s sizing call, so that both use one instantiation)
    offsets_kernel<<<static_cast<unsigned>((C + 1 + kThreads - 1) / kThreads), kThreads, 0, s>>>(N, C, offsets);
    check_launch("ranking offsets");
    check_cuda(cub::DeviceSegmentedRadixSort::SortPairsDescending(
                   base + l.temp, temp_bytes, keys_in, keys_out, flags_in, flags_out, static_cast<int>(n),
                   static_cast<int>(C), static_cast<const int*>(offsets), static_cast<const int*>(offsets + 1), 0,
                   int(sizeof(K) * 8), s),
               "segmented radix sort");
  }
  const unsigned cblocks = static_cast<unsigned>((C + 63) / 64);
  // 2 P N < 2^62 below 2^31 samples, which cub's sizes already require
  scan_kernel<K, uint64_t><<<cblocks, 64, 0, s>>>(keys_out, flags_out, N, C, max_fpr, npos, nneg, auc, pauc, ap);
  check_launch("ranking scan");
}

}  // namespace

int64_t ranking_columns_scratch_cuda(int dtype, int64_t N, int64_t C) {
  return dtype == 0 ? layout<uint32_t>(N, C).total : layout<uint64_t>(N, C).total;
}

void ranking_columns_cuda(int dtype, const void* score, int64_t N, int64_t C, const int64_t* labels,
                          const uint8_t* indicator, double max_fpr, double* npos, double* nneg, double* auc,
                          double* pauc, double* ap, void* scratch, int64_t scratch_bytes, void* stream) {
  if (N == 0 || C == 0) throw std::invalid_argument("cvkernels: CUDA ranking needs at least one sample and column");
  if (dtype == 0)
    run(static_cast<const float*>(score), N, C, labels, indicator, max_fpr, npos, nneg, auc, pauc, ap, scratch,
        scratch_bytes, as_stream(stream));
  else
    run(static_cast<const double*>(score), N, C, labels, indicator, max_fpr, npos, nneg, auc, pauc, ap, scratch,
        scratch_bytes, as_stream(stream));
}

}  // namespace classification
}  // namespace cvk
