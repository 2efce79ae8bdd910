// CPU box kernels: pairwise IoU/GIoU/DIoU/CIoU matrices (forward and backward), the paired
// losses (forward and backward), box_area and box_convert. Threads from the shared pool;
// the pairwise forward's inner loop is SIMD-dispatched (boxes_rows_impl.h).
#define CVK_SIMD_NS base
#include "boxes/boxes_rows_impl.h"
#undef CVK_SIMD_NS

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"

namespace cvk {
namespace boxes {
namespace {

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
  const bool simd = use_avx2();
  const int64_t grain = std::max<int64_t>(1, kPairsPerTask / M);
  parallel_for(0, B * N, grain, [&](int64_t r0, int64_t r1) {
    // A task's rows may span batches: run each batch's piece against its own soa block.
    while (r0 < r1) {
      const int64_t bi = r0 / N;
      const int64_t stop = std::min(r1, (bi + 1) * N);
      const T* s = soa.data() + bi * 8 * M;
      // rows_kernel indexes out and a by the global row; soa is per batch.
      if (simd) {
        avx2::pairwise_rows(kind, dtype, a, s, out, stop - r0, r0, N, M, eps);
      } else {
        base::pairwise_rows(kind, dtype, a, s, out, stop - r0, r0, N, M, eps);
      }
      r0 = stop;
    }
  });
}

template <PairKind K, class T>
void pairwise_backward_kernel(const T* a, const T* b, const T* g, T* ga, T* gb, int64_t B,
                              int64_t N, int64_t M, T eps) {
  // Deterministic, no atomics: one pass over rows of a (each task owns its rows of grad_a),
  // one pass over rows of b (each task owns its rows of grad_b). Twice the arithmetic of a
  // fused pass, but every sum is taken in the same order on every run.
  const int64_t grain_a = std::max<int64_t>(1, kPairsPerTask / std::max<int64_t>(M, 1));
  parallel_for(0, B * N, grain_a, [&](int64_t r0, int64_t r1) {
    T scratch[4] = {0, 0, 0, 0};  // the other side's gradient, not needed here
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bi = r / N;
      T acc[4] = {0, 0, 0, 0};
      for (int64_t j = 0; j < M; ++j) {
        pair_value_grad<K, false>(a + 4 * r, b + 4 * (bi * M + j), eps, g[r * M + j], acc,
                                  scratch);
      }
      std::memcpy(ga + 4 * r, acc, sizeof(acc));
    }
  });
  const int64_t grain_b = std::max<int64_t>(1, kPairsPerTask / std::max<int64_t>(N, 1));
  parallel_for(0, B * M, grain_b, [&](int64_t c0, int64_t c1) {
    T scratch[4] = {0, 0, 0, 0};  // the other side's gradient, not needed here
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t bi = c / M, j = c % M;
      T acc[4] = {0, 0, 0, 0};
      for (int64_t i = 0; i < N; ++i) {
        pair_value_grad<K, false>(a + 4 * (bi * N + i), b + 4 * c, eps,
                                  g[(bi * N + i) * M + j], scratch, acc);
      }
      std::memcpy(gb + 4 * c, acc, sizeof(acc));
    }
  });
}

template <PairKind K, class T>
void loss_kernel(const T* a, const T* b, const T* g, T* out, T* ga, T* gb, int64_t n, T eps) {
  parallel_for(0, n, kPairsPerTask, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (ga == nullptr) {
        out[i] = pair_value_grad<K, true>(a + 4 * i, b + 4 * i, eps, T(0), (T*)nullptr,
                                          (T*)nullptr);
      } else {
        T* pa = ga + 4 * i;
        T* pb = gb + 4 * i;
        for (int k = 0; k < 4; ++k) pa[k] = pb[k] = T(0);
        pair_value_grad<K, true>(a + 4 * i, b + 4 * i, eps, g[i], pa, pb);
      }
    }
  });
}

// Calls f(std::integral_constant<PairKind, K>) for the runtime kind.
template <class F>
void dispatch_kind(int kind, F&& f) {
  switch (static_cast<PairKind>(kind)) {
    case PairKind::IoU: return f(std::integral_constant<PairKind, PairKind::IoU>{});
    case PairKind::GIoU: return f(std::integral_constant<PairKind, PairKind::GIoU>{});
    case PairKind::DIoU: return f(std::integral_constant<PairKind, PairKind::DIoU>{});
    case PairKind::CIoU: return f(std::integral_constant<PairKind, PairKind::CIoU>{});
  }
  throw std::invalid_argument("cvkernels: unknown box metric kind " + std::to_string(kind));
}

}  // namespace

void pairwise_cpu(int kind, int dtype, const void* a, const void* b, void* out, int64_t B,
                  int64_t N, int64_t M, double eps) {
  dispatch_kind(kind, [](auto) {});  // validates kind before any work
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    pairwise_typed<T>(kind, static_cast<const T*>(a), static_cast<const T*>(b),
                      static_cast<T*>(out), B, N, M, eps);
  });
}

void pairwise_backward_cpu(int kind, int dtype, const void* a, const void* b, const void* grad,
                           void* grad_a, void* grad_b, int64_t B, int64_t N, int64_t M,
                           double eps) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      pairwise_backward_kernel<decltype(k)::value, T>(
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(grad),
          static_cast<T*>(grad_a), static_cast<T*>(grad_b), B, N, M, static_cast<T>(eps));
    });
  });
}

void loss_cpu(int kind, int dtype, const void* a, const void* b, void* out, int64_t n,
              double eps) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      loss_kernel<decltype(k)::value, T>(static_cast<const T*>(a), static_cast<const T*>(b),
                                         nullptr, static_cast<T*>(out), nullptr, nullptr, n,
                                         static_cast<T>(eps));
    });
  });
}

void loss_backward_cpu(int kind, int dtype, const void* a, const void* b, const void* grad,
                       void* grad_a, void* grad_b, int64_t n, double eps) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      loss_kernel<decltype(k)::value, T>(static_cast<const T*>(a), static_cast<const T*>(b),
                                         static_cast<const T*>(grad), nullptr,
                                         static_cast<T*>(grad_a), static_cast<T*>(grad_b), n,
                                         static_cast<T>(eps));
    });
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
