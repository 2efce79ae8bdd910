// CUDA non-maximum suppression.
//
// nms / batched_nms: the classic bitmask scheme, with the final pass on the device. Boxes
// arrive in rank order. Kernel 1: block (i, j) compares the 64 boxes of row block i with the
// 64 of column block j and sets bit q of mask[p][j] when column box q ranks after row box p,
// has the same class, and IoU > threshold. Kernel 2 (one block): walks the boxes in rank
// order keeping a "removed" bitset in shared memory; a box not removed is kept and its mask
// row is OR-ed into the bitset by all threads. No copy of the mask to the host.
//
// soft_nms: one block per class segment; each round a block-wide argmax (ties: lower
// position) selects, then all threads decay the scores of the alive boxes of the segment.
//
// multiclass sets: one block per candidate set walks its ranked candidates; each candidate is
// tested against the set's kept boxes by all threads at once (O(candidates * kept / threads)).
//
// IoU and the threshold rule are box_math.h's and nms_math.h's, as on the CPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/cuda_launch.cuh"
#include "boxes/box_math.h"
#include "nms/nms_cuda.h"
#include "nms/nms_math.h"

namespace cvk {
namespace nms {
namespace {

using boxes::BoxInfo;
using boxes::PairKind;
using boxes::iou_box;
using boxes::pair_value;

constexpr int kBlock = 64;     // boxes per mask word
constexpr int kThreads = 256;  // threads of the one-block kernels

template <class T>
__global__ void mask_kernel(const T* __restrict__ boxes, const int64_t* __restrict__ cls,
                            int64_t n, T thr, unsigned long long* __restrict__ mask,
                            int64_t words) {
  const int64_t row_block = blockIdx.y, col_block = blockIdx.x;
  if (col_block < row_block) return;  // only later boxes can be suppressed
  __shared__ BoxInfo<T> col[kBlock];
  __shared__ int64_t col_cls[kBlock];
  const int64_t col0 = col_block * kBlock;
  const int64_t col_n = min(int64_t(kBlock), n - col0);
  if (threadIdx.x < col_n) {
    col[threadIdx.x] = iou_box(boxes + 4 * (col0 + threadIdx.x));
    col_cls[threadIdx.x] = cls ? cls[col0 + threadIdx.x] : 0;
  }
  __syncthreads();
  const int64_t p = row_block * kBlock + threadIdx.x;
  if (p >= n) return;
  const BoxInfo<T> a = iou_box(boxes + 4 * p);
  const int64_t a_cls = cls ? cls[p] : 0;
  unsigned long long bits = 0;
  for (int q = (col_block == row_block ? threadIdx.x + 1 : 0); q < col_n; ++q) {
    if (col_cls[q] == a_cls && pair_value<PairKind::IoU>(a, col[q], T(0)) > thr)
      bits |= 1ULL << q;
  }
  mask[p * words + col_block] = bits;
}

__global__ void walk_kernel(const unsigned long long* __restrict__ mask, int64_t n,
                            int64_t words, int64_t* __restrict__ keep,
                            int64_t* __restrict__ count) {
  extern __shared__ unsigned long long removed[];  // one bit per box
  for (int64_t w = threadIdx.x; w < words; w += blockDim.x) removed[w] = 0;
  __syncthreads();
  int64_t kept = 0;  // the same in every thread: all take the same branches
  for (int64_t p = 0; p < n; ++p) {
    const int64_t w = p / kBlock;
    const bool is_removed = (removed[w] >> (p % kBlock)) & 1ULL;
    __syncthreads();  // every thread has read removed[w] before anyone updates it
    if (is_removed) continue;
    if (threadIdx.x == 0) keep[kept] = p;
    ++kept;
    const unsigned long long* row = mask + p * words;
    for (int64_t v = w + threadIdx.x; v < words; v += blockDim.x) removed[v] |= row[v];
    __syncthreads();
  }
  if (threadIdx.x == 0) *count = kept;
}

// Dead boxes (selected, or score below the threshold, or NaN) hold a NaN score.
template <class T>
__global__ void soft_kernel(const T* __restrict__ boxes, T* __restrict__ scores,
                            const int64_t* __restrict__ offsets, T thr, T sigma, T score_thr,
                            int method, int64_t* __restrict__ keep, T* __restrict__ kept_scores,
                            int64_t* __restrict__ counts) {
  const int64_t begin = offsets[blockIdx.x], end = offsets[blockIdx.x + 1];
  const T dead = T(NAN);
  __shared__ T best_score[kThreads];
  __shared__ int64_t best_pos[kThreads];
  for (int64_t p = begin + threadIdx.x; p < end; p += blockDim.x)
    if (!(scores[p] >= score_thr)) scores[p] = dead;
  __syncthreads();
  int64_t kept = 0;
  for (;;) {
    // Block-wide argmax of the alive scores; ties go to the lower position.
    T bs = T(0);
    int64_t bp = -1;
    for (int64_t p = begin + threadIdx.x; p < end; p += blockDim.x) {
      const T v = scores[p];
      if (v == v && (bp < 0 || v > bs)) {
        bs = v;
        bp = p;
      }
    }
    best_score[threadIdx.x] = bs;
    best_pos[threadIdx.x] = bp;
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half >>= 1) {
      if (threadIdx.x < half) {
        const T os = best_score[threadIdx.x + half];
        const int64_t op = best_pos[threadIdx.x + half];
        const int64_t mp = best_pos[threadIdx.x];
        const T ms = best_score[threadIdx.x];
        if (op >= 0 && (mp < 0 || os > ms || (os == ms && op < mp))) {
          best_score[threadIdx.x] = os;
          best_pos[threadIdx.x] = op;
        }
      }
      __syncthreads();
    }
    const int64_t sel = best_pos[0];
    const T sel_score = best_score[0];
    __syncthreads();
    if (sel < 0) break;
    if (threadIdx.x == 0) {
      keep[begin + kept] = sel;
      kept_scores[begin + kept] = sel_score;
      scores[sel] = dead;
    }
    ++kept;
    const BoxInfo<T> a = iou_box(boxes + 4 * sel);
    for (int64_t p = begin + threadIdx.x; p < end; p += blockDim.x) {
      const T v = scores[p];
      if (p == sel || v != v) continue;
      const T o = pair_value<PairKind::IoU>(a, iou_box(boxes + 4 * p), T(0));
      if (o > T(0)) {
        const T decayed = v * soft_weight(method, o, thr, sigma);
        scores[p] = decayed >= score_thr ? decayed : dead;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) counts[blockIdx.x] = kept;
}

template <class T>
__global__ void greedy_sets_kernel(const T* __restrict__ boxes, const int64_t* __restrict__ cand,
                                   const int64_t* __restrict__ valid, int64_t sets_per_image,
                                   int64_t L, int64_t N, int64_t C, bool per_class, T thr,
                                   int64_t cap, int64_t* __restrict__ kept_ids,
                                   int64_t* __restrict__ kept_n, T* __restrict__ scratch) {
  const int64_t s = blockIdx.x;
  const int64_t b = s / sets_per_image;
  const int64_t m = valid[s];
  T* kept_box = scratch + s * cap * 4;
  __shared__ int suppressed;
  int64_t kept = 0;
  for (int64_t p = 0; p < m && kept < cap; ++p) {
    const int64_t id = cand[s * L + p];
    const T* src = per_class ? boxes + 4 * (b * N * C + id) : boxes + 4 * (b * N + id / C);
    const BoxInfo<T> cb = iou_box(src);
    if (threadIdx.x == 0) suppressed = 0;
    __syncthreads();
    for (int64_t k = threadIdx.x; k < kept; k += blockDim.x) {
      if (pair_value<PairKind::IoU>(iou_box(kept_box + 4 * k), cb, T(0)) > thr) suppressed = 1;
    }
    __syncthreads();
    if (!suppressed) {
      if (threadIdx.x < 4) kept_box[4 * kept + threadIdx.x] = src[threadIdx.x];
      if (threadIdx.x == 0) kept_ids[s * cap + kept] = id;
      ++kept;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) kept_n[s] = kept;
}

}  // namespace

void nms_cuda(int dtype, const void* boxes, const int64_t* cls, int64_t n, double iou_thr,
              int64_t* mask, int64_t* keep, int64_t* count, void* stream) {
  if (n == 0) return;
  const int64_t words = (n + kBlock - 1) / kBlock;
  const size_t shared = static_cast<size_t>(words) * sizeof(unsigned long long);
  if (n > kMaxSortedBoxes)
    throw std::invalid_argument("cvkernels: CUDA nms supports up to " + std::to_string(kMaxSortedBoxes) +
                                " boxes per call");
  auto* m = reinterpret_cast<unsigned long long*>(mask);
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dim3 grid(static_cast<unsigned>(words), static_cast<unsigned>(words));
    mask_kernel<T><<<grid, kBlock, 0, as_stream(stream)>>>(
        static_cast<const T*>(boxes), cls, n, typed_threshold<T>(iou_thr), m, words);
  });
  check_launch("nms mask");
  walk_kernel<<<1, kThreads, shared, as_stream(stream)>>>(m, n, words, keep, count);
  check_launch("nms walk");
}

void soft_nms_cuda(int dtype, const void* boxes, const void* scores, const int64_t* offsets,
                   int64_t segments, double iou_thr, double sigma, double score_thr, int method,
                   int64_t* keep, void* kept_scores, int64_t* counts, void* stream) {
  if (segments == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    // The kernel decays the scores in place: scores is the caller's private gathered copy.
    soft_kernel<T><<<static_cast<unsigned>(segments), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(boxes), const_cast<T*>(static_cast<const T*>(scores)), offsets,
        static_cast<T>(iou_thr), static_cast<T>(sigma), static_cast<T>(score_thr), method, keep,
        static_cast<T*>(kept_scores), counts);
  });
  check_launch("soft_nms");
}

void greedy_sets_cuda(int dtype, const void* boxes, const int64_t* cand, const int64_t* valid,
                      int64_t sets, int64_t sets_per_image, int64_t L, int64_t N, int64_t C,
                      bool boxes_per_class, double iou_thr, int64_t cap, int64_t* kept_ids,
                      int64_t* kept_n, void* scratch, void* stream) {
  if (sets == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    greedy_sets_kernel<T><<<static_cast<unsigned>(sets), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(boxes), cand, valid, sets_per_image, L, N, C, boxes_per_class,
        typed_threshold<T>(iou_thr), cap, kept_ids, kept_n, static_cast<T*>(scratch));
  });
  check_launch("multiclass nms");
}

}  // namespace nms
}  // namespace cvk
