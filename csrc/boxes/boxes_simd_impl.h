// The inner loops of the box kernels, compiled twice: once for baseline x86-64
// (boxes_cpu.cpp) and once with AVX2 (boxes_avx2.cpp); CVK_SIMD_NS names the copy. The
// threading lives in boxes_cpu.cpp; these functions run one thread's share.
//
// Pairwise forward: boxes2 were transposed to structure-of-arrays (x1[], y1[], x2[], y2[], area[],
// cx[], cy[], angle[], each M long) once per call, so for a row i the loop over j reads eight
// contiguous streams and the compiler vectorizes pair_value<K> across j (8 floats per AVX2
// register). Each output element is written once, in order: the kernel is bound by the
// output write, O(N*M) stores and O(N+M) loads.
//
// Losses and backward passes: one pair_value_grad per box pair, written with selects rather
// than branches so that the loop over pairs vectorizes as well.
#include "boxes/box_math.h"
#include "boxes/boxes_cpu.h"

#include <type_traits>

namespace cvk {
namespace boxes {
namespace CVK_SIMD_NS {
namespace {

template <PairKind K, class T>
void rows_kernel(const T* a, const T* soa, T* out, int64_t rows, int64_t row0, int64_t N,
                 int64_t M, T eps) {
  const T* __restrict__ x1 = soa;
  const T* __restrict__ y1 = soa + M;
  const T* __restrict__ x2 = soa + 2 * M;
  const T* __restrict__ y2 = soa + 3 * M;
  const T* __restrict__ ar = soa + 4 * M;
  const T* __restrict__ cx = soa + 5 * M;
  const T* __restrict__ cy = soa + 6 * M;
  const T* __restrict__ an = soa + 7 * M;
  const bool angle = K == PairKind::CIoU;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = row0 + r;  // row index within (B*N); the batch's soa was chosen by caller
    (void)N;
    const BoxInfo<T> ai = box_info(a + 4 * row, angle);
    T* __restrict__ o = out + row * M;
    for (int64_t j = 0; j < M; ++j) {
      BoxInfo<T> bj;
      bj.x1 = x1[j];
      bj.y1 = y1[j];
      bj.x2 = x2[j];
      bj.y2 = y2[j];
      bj.area = ar[j];
      bj.cx = cx[j];
      bj.cy = cy[j];
      bj.angle = an[j];
      o[j] = pair_value<K>(ai, bj, eps);
    }
  }
}

template <class T>
void rows_typed(int kind, const T* a, const T* soa, T* out, int64_t rows, int64_t row0,
                int64_t N, int64_t M, T eps) {
  switch (static_cast<PairKind>(kind)) {
    case PairKind::IoU: return rows_kernel<PairKind::IoU>(a, soa, out, rows, row0, N, M, eps);
    case PairKind::GIoU: return rows_kernel<PairKind::GIoU>(a, soa, out, rows, row0, N, M, eps);
    case PairKind::DIoU: return rows_kernel<PairKind::DIoU>(a, soa, out, rows, row0, N, M, eps);
    case PairKind::CIoU: return rows_kernel<PairKind::CIoU>(a, soa, out, rows, row0, N, M, eps);
  }
}

template <PairKind K, class T>
void loss_kernel(const T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ g,
                 T* __restrict__ out, T* __restrict__ ga, T* __restrict__ gb, int64_t i0,
                 int64_t i1, T eps) {
  if (ga == nullptr) {
    for (int64_t i = i0; i < i1; ++i)
      out[i] = pair_value_grad<K, true>(a + 4 * i, b + 4 * i, eps, T(0), (T*)nullptr, (T*)nullptr);
    return;
  }
  for (int64_t i = i0; i < i1; ++i) {
    T pa[4] = {0, 0, 0, 0}, pb[4] = {0, 0, 0, 0};
    pair_value_grad<K, true>(a + 4 * i, b + 4 * i, eps, g[i], pa, pb);
    for (int k = 0; k < 4; ++k) {
      ga[4 * i + k] = pa[k];
      gb[4 * i + k] = pb[k];
    }
  }
}

// Rows [r0, r1) of grad_a (side 0) or of grad_b (side 1) of the pairwise backward; each row
// sums over the other set in a fixed order, so the result does not depend on threading.
template <PairKind K, class T>
void pairwise_grad_kernel(int side, const T* __restrict__ a, const T* __restrict__ b,
                          const T* __restrict__ g, T* __restrict__ out, int64_t r0, int64_t r1,
                          int64_t N, int64_t M, T eps) {
  for (int64_t r = r0; r < r1; ++r) {
    T acc[4] = {0, 0, 0, 0}, other[4] = {0, 0, 0, 0};
    if (side == 0) {
      const int64_t bi = r / N;
      for (int64_t j = 0; j < M; ++j) {
        T o[4] = {0, 0, 0, 0};
        pair_value_grad<K, false>(a + 4 * r, b + 4 * (bi * M + j), eps, g[r * M + j], acc, o);
      }
    } else {
      const int64_t bi = r / M, j = r % M;
      for (int64_t i = 0; i < N; ++i) {
        T o[4] = {0, 0, 0, 0};
        pair_value_grad<K, false>(a + 4 * (bi * N + i), b + 4 * r, eps,
                                  g[(bi * N + i) * M + j], o, acc);
      }
    }
    (void)other;
    for (int k = 0; k < 4; ++k) out[4 * r + k] = acc[k];
  }
}


}  // namespace

void loss_range(int kind, int dtype, const void* a, const void* b, const void* g, void* out,
                void* ga, void* gb, int64_t i0, int64_t i1, double eps) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      loss_kernel<decltype(k)::value, T>(static_cast<const T*>(a), static_cast<const T*>(b),
                                         static_cast<const T*>(g), static_cast<T*>(out),
                                         static_cast<T*>(ga), static_cast<T*>(gb), i0, i1,
                                         static_cast<T>(eps));
    });
  });
}

void pairwise_grad_rows(int kind, int dtype, int side, const void* a, const void* b,
                        const void* g, void* out, int64_t r0, int64_t r1, int64_t N, int64_t M,
                        double eps) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      pairwise_grad_kernel<decltype(k)::value, T>(
          side, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(g),
          static_cast<T*>(out), r0, r1, N, M, static_cast<T>(eps));
    });
  });
}

void pairwise_rows(int kind, int dtype, const void* a, const void* soa, void* out, int64_t rows,
                   int64_t row0, int64_t N, int64_t M, double eps) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    rows_typed<T>(kind, static_cast<const T*>(a), static_cast<const T*>(soa),
                  static_cast<T*>(out), rows, row0, N, M, static_cast<T>(eps));
  });
}

}  // namespace CVK_SIMD_NS
}  // namespace boxes
}  // namespace cvk
