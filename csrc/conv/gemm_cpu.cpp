#include "conv/gemm.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"

namespace cvk {
namespace conv {
namespace {

constexpr int64_t kKC = 256, kMC = 96, kNC = 1024;

// n values of scratch in v, starting on a 64-byte boundary: a panel row of 16 floats is then
// one cache line, not two (malloc only promises 16-byte alignment).
template <class T>
T* aligned_space(std::vector<T>& v, int64_t n) {
  constexpr size_t pad = 64 / sizeof(T);
  if (v.size() < static_cast<size_t>(n) + pad) v.resize(static_cast<size_t>(n) + pad);
  const uintptr_t p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<T*>((p + 63) & ~uintptr_t(63));
}

// Portable micro-kernel (double, or float without AVX2): an MR x NR block in a local array.
template <class T>
void micro_scalar(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  constexpr int64_t MR = Tiles<T>::MR, NR = Tiles<T>::NR;
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t i = 0; i < MR; ++i) {
      const T x = a[MR * k + i];
      for (int64_t j = 0; j < NR; ++j) acc[i][j] += x * b[NR * k + j];
    }
  for (int64_t i = 0; i < MR; ++i)
    for (int64_t j = 0; j < NR; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

template <class T>
void micro(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  if constexpr (sizeof(T) == 4) {
    static_assert(Tiles<float>::MR == 6 && Tiles<float>::NR == 32, "micro-kernels are 6 x 32");
    if (use_avx512()) return avx512::micro_6x32(kc, a, b, c, ldc, accumulate);
    if (use_avx2()) {
      avx2::micro_6x16(kc, a, 6, b, 32, c, ldc, accumulate);
      return avx2::micro_6x16(kc, a, 6, b + 16, 32, c + 16, ldc, accumulate);
    }
  }
  micro_scalar(kc, a, b, c, ldc, accumulate);
}

}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const PackA<T>& pack_a, const PackB<T>& pack_b, T* C,
          int64_t ldc, bool accumulate) {
  constexpr int64_t MR = Tiles<T>::MR, NR = Tiles<T>::NR;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  // Cut N into a multiple of the thread count of tasks of at most about kNC columns, each a
  // whole number of NR-wide panels and the panels dealt out evenly (sizes differ by at most
  // one panel), so that every thread gets the same share.
  const int64_t threads = std::max<int64_t>(1, get_num_threads());
  const int64_t per_thread = (N + threads * kNC - 1) / (threads * kNC);
  const int64_t panels = (N + NR - 1) / NR;
  const int64_t tasks = std::min(panels, threads * per_thread);
  const int64_t max_panels = (panels + tasks - 1) / tasks;
  // A is packed once, in parallel, for every (k slice, m block), and shared by all N tasks
  // (packing it inside each task would repeat the strided reads once per task). The buffer
  // belongs to the calling thread and is kept, so repeated calls do not fault its pages in.
  const int64_t nks = (K + kKC - 1) / kKC, nms = (M + kMC - 1) / kMC;
  const int64_t astride = ((kMC + MR - 1) / MR) * MR * kKC;
  static thread_local std::vector<T> apack_all;
  T* apacked = aligned_space(apack_all, nks * nms * astride);
  parallel_for_each(nks * nms, [&](int64_t t) {
    const int64_t k0 = (t / nms) * kKC, m0 = (t % nms) * kMC;
    pack_a(m0, std::min(kMC, M - m0), k0, std::min(kKC, K - k0), apacked + t * astride);
  });
  parallel_for_each(tasks, [&](int64_t t) {
    const int64_t p0 = t * panels / tasks, p1 = (t + 1) * panels / tasks;
    const int64_t n0 = p0 * NR, nn = std::min(N, p1 * NR) - n0;
    const int64_t npanels = p1 - p0;
    static thread_local std::vector<T> bpack_store;  // per worker, kept between calls (no page faults)
    T* const bpack = aligned_space(bpack_store, max_panels * NR * kKC);
    T tmp[MR * NR];
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      const int64_t kc = std::min(kKC, K - k0);
      const bool acc = accumulate || k0 > 0;
      pack_b(k0, kc, n0, nn, bpack);
      for (int64_t m0 = 0; m0 < M; m0 += kMC) {
        const int64_t mc = std::min(kMC, M - m0);
        const T* apack = apacked + ((k0 / kKC) * nms + m0 / kMC) * astride;
        for (int64_t jp = 0; jp < npanels; ++jp) {
          const int64_t j0 = jp * NR, nr = std::min(NR, nn - j0);
          const T* bp = bpack + jp * NR * kc;
          for (int64_t i0 = 0; i0 < mc; i0 += MR) {
            const int64_t mr = std::min(MR, mc - i0);
            const T* ap = apack + (i0 / MR) * MR * kc;
            T* c = C + (m0 + i0) * ldc + n0 + j0;
            if (mr == MR && nr == NR) {
              micro(kc, ap, bp, c, ldc, acc);
            } else {  // edge tile through a local block
              for (int64_t i = 0; i < mr; ++i)
                for (int64_t j = 0; j < nr; ++j) tmp[i * NR + j] = acc ? c[i * ldc + j] : T(0);
              micro(kc, ap, bp, tmp, NR, true);
              for (int64_t i = 0; i < mr; ++i)
                for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = tmp[i * NR + j];
            }
          }
        }
      }
    }
  });
}

void micro_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  micro<float>(kc, a, b, c, ldc, accumulate);
}

template <class T>
PackA<T> pack_matrix_a(const T* A, int64_t lda, bool trans) {
  return [=](int64_t m0, int64_t mc, int64_t k0, int64_t kc, T* panel) {
    constexpr int64_t MR = Tiles<T>::MR;
    for (int64_t i0 = 0; i0 < mc; i0 += MR) {
      T* p = panel + (i0 / MR) * MR * kc;
      const int64_t mr = std::min(MR, mc - i0);
      const int64_t m = m0 + i0;
      if (trans) {  // row k of the stored matrix holds the panel's MR values, contiguous
        for (int64_t k = 0; k < kc; ++k) {
          const T* src = A + (k0 + k) * lda + m;
          for (int64_t i = 0; i < mr; ++i) p[MR * k + i] = src[i];
          for (int64_t i = mr; i < MR; ++i) p[MR * k + i] = T(0);
        }
      } else {
        for (int64_t i = 0; i < MR; ++i) {
          if (i >= mr) {
            for (int64_t k = 0; k < kc; ++k) p[MR * k + i] = T(0);
            continue;
          }
          const T* src = A + (m + i) * lda + k0;
          for (int64_t k = 0; k < kc; ++k) p[MR * k + i] = src[k];
        }
      }
    }
  };
}

template <class T>
PackB<T> pack_matrix_b(const T* B, int64_t ldb, bool trans) {
  return [=](int64_t k0, int64_t kc, int64_t n0, int64_t nc, T* panel) {
    constexpr int64_t NR = Tiles<T>::NR;
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
      T* p = panel + (j0 / NR) * NR * kc;
      const int64_t nr = std::min(NR, nc - j0);
      if (trans) {  // column j of the panel is row n0 + j0 + j of the stored matrix: read it along k
        for (int64_t j = 0; j < NR; ++j) {
          if (j >= nr) {
            for (int64_t k = 0; k < kc; ++k) p[NR * k + j] = T(0);
            continue;
          }
          const T* src = B + (n0 + j0 + j) * ldb + k0;
          for (int64_t k = 0; k < kc; ++k) p[NR * k + j] = src[k];
        }
      } else {  // each panel row is NR contiguous values of a stored row
        for (int64_t k = 0; k < kc; ++k) {
          const T* src = B + (k0 + k) * ldb + n0 + j0;
          T* dst = p + NR * k;
          if (nr == NR) {
            std::copy(src, src + NR, dst);
          } else {
            std::copy(src, src + nr, dst);
            std::fill(dst + nr, dst + NR, T(0));
          }
        }
      }
    }
  };
}

template void gemm<float>(int64_t, int64_t, int64_t, const PackA<float>&, const PackB<float>&, float*, int64_t, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const PackA<double>&, const PackB<double>&, double*, int64_t, bool);
template PackA<float> pack_matrix_a<float>(const float*, int64_t, bool);
template PackA<double> pack_matrix_a<double>(const double*, int64_t, bool);
template PackB<float> pack_matrix_b<float>(const float*, int64_t, bool);
template PackB<double> pack_matrix_b<double>(const double*, int64_t, bool);

}  // namespace conv
}  // namespace cvk
