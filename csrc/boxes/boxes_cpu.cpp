// CPU box kernels: pairwise IoU/GIoU/DIoU/CIoU matrices (forward and backward), the paired
// losses (forward and backward), box_area and box_convert. Threads from the shared pool;
// the pairwise forward's inner loop is SIMD-dispatched (boxes_simd_impl.h).
#define CVK_SIMD_NS base
#include "boxes/boxes_simd_impl.h"
#undef CVK_SIMD_NS

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"

namespace cvk {
namespace boxes {
namespace {

// Picks the AVX2 or the baseline copy of a SIMD-dispatched inner kernel.
#define CVK_SIMD_CALL(fn, ...) (use_avx2() ? avx2::fn(__VA_ARGS__) : base::fn(__VA_ARGS__))

// Work per task: enough pairs that waking a thread pays off.
constexpr int64_t kPairsPerTask = 1 << 14;

template <class T>
void pairwise_typed(int kind, const T* a, const T* b, T* out, int64_t B, int64_t N, int64_t M,
                    double eps) {
  if (B == 0 || N == 0 || M == 0) return;
  // Structure-of-arrays copy of boxes2 per batch: 8 streams of M values.
  std::vector<T> soa(static_cast<size_t>(B * 8 * M));
  const bool angle = kind == static_cast<int>(PairKind::CIoU);
  for (int64_t bi = 0; bi < B; ++bi) {
    T* s = soa.data() + bi * 8 * M;
    for (int64_t j = 0; j < M; ++j) {
      const BoxInfo<T> info = box_info(b + 4 * (bi * M + j), angle);
      s[j] = info.x1;
      s[M + j] = info.y1;
      s[2 * M + j] = info.x2;
      s[3 * M + j] = info.y2;
      s[4 * M + j] = info.area;
      s[5 * M + j] = info.cx;
      s[6 * M + j] = info.cy;
      s[7 * M + j] = info.angle;
    }
  }
  advise_huge_pages(out, B * N * M * static_cast<int64_t>(sizeof(T)));
  const int dtype = std::is_same<T, float>::value ? 0 : 1;
  const int64_t grain = std::max<int64_t>(1, kPairsPerTask / M);
  parallel_for(0, B * N, grain, [&](int64_t r0, int64_t r1) {
    // A task's rows may span batches: run each batch's piece against its own soa block.
    while (r0 < r1) {
      const int64_t bi = r0 / N;
      const int64_t stop = std::min(r1, (bi + 1) * N);
      const T* s = soa.data() + bi * 8 * M;
      // rows_kernel indexes out and a by the global row; soa is per batch.
      CVK_SIMD_CALL(pairwise_rows, kind, dtype, a, s, out, stop - r0, r0, N, M, eps);
      r0 = stop;
    }
  });
}

void check_kind(int kind) {
  if (kind < 0 || kind > 3)
    throw std::invalid_argument("cvkernels: unknown box metric kind " + std::to_string(kind));
}

int64_t elem_size(int dtype) { return dtype_from_int(dtype) == DType::Float32 ? 4 : 8; }

}  // namespace

void pairwise_cpu(int kind, int dtype, const void* a, const void* b, void* out, int64_t B,
                  int64_t N, int64_t M, double eps) {
  check_kind(kind);
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    pairwise_typed<T>(kind, static_cast<const T*>(a), static_cast<const T*>(b),
                      static_cast<T*>(out), B, N, M, eps);
  });
}

void pairwise_backward_cpu(int kind, int dtype, const void* a, const void* b, const void* grad,
                           void* grad_a, void* grad_b, int64_t B, int64_t N, int64_t M,
                           double eps) {
  check_kind(kind);
  elem_size(dtype);
  // Deterministic, no atomics: one pass over the rows of grad_a (each task owns its rows),
  // one over the rows of grad_b. Twice the arithmetic of a fused pass, but every sum is
  // taken in the same order whatever the thread count.
  parallel_for(0, B * N, std::max<int64_t>(1, kPairsPerTask / std::max<int64_t>(M, 1)),
               [&](int64_t r0, int64_t r1) {
                 CVK_SIMD_CALL(pairwise_grad_rows, kind, dtype, 0, a, b, grad, grad_a, r0, r1, N,
                               M, eps);
               });
  parallel_for(0, B * M, std::max<int64_t>(1, kPairsPerTask / std::max<int64_t>(N, 1)),
               [&](int64_t r0, int64_t r1) {
                 CVK_SIMD_CALL(pairwise_grad_rows, kind, dtype, 1, a, b, grad, grad_b, r0, r1, N,
                               M, eps);
               });
}

void loss_cpu(int kind, int dtype, const void* a, const void* b, void* out, int64_t n,
              double eps) {
  check_kind(kind);
  elem_size(dtype);
  parallel_for(0, n, kPairsPerTask, [&](int64_t i0, int64_t i1) {
    CVK_SIMD_CALL(loss_range, kind, dtype, a, b, nullptr, out, nullptr, nullptr, i0, i1, eps);
  });
}

void loss_backward_cpu(int kind, int dtype, const void* a, const void* b, const void* grad,
                       void* grad_a, void* grad_b, int64_t n, double eps) {
  check_kind(kind);
  elem_size(dtype);
  parallel_for(0, n, kPairsPerTask, [&](int64_t i0, int64_t i1) {
    CVK_SIMD_CALL(loss_range, kind, dtype, a, b, grad, nullptr, grad_a, grad_b, i0, i1, eps);
  });
}

void area_cpu(int dtype, const void* boxes, void* out, int64_t n) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* b = static_cast<const T*>(boxes);
    T* o = static_cast<T*>(out);
    parallel_for(0, n, 1 << 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        o[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
    });
  });
}

void convert_cpu(int dtype, const void* in, void* out, int64_t n, int from_fmt, int to_fmt) {
  if (from_fmt < 0 || from_fmt > 2 || to_fmt < 0 || to_fmt > 2)
    throw std::invalid_argument("cvkernels: unknown box format code");
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* src = static_cast<const T*>(in);
    T* dst = static_cast<T*>(out);
    const auto f = static_cast<BoxFmt>(from_fmt), t = static_cast<BoxFmt>(to_fmt);
    parallel_for(0, n, 1 << 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) convert_box(f, t, src + 4 * i, dst + 4 * i);
    });
  });
}

}  // namespace boxes
}  // namespace cvk
