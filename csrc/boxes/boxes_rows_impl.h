// The inner loop of the pairwise box kernels, compiled twice: once for baseline x86-64
// (boxes_cpu.cpp) and once with AVX2 (boxes_avx2.cpp); CVK_SIMD_NS names the copy.
//
// Algorithm: boxes2 were transposed to structure-of-arrays (x1[], y1[], x2[], y2[], area[],
// cx[], cy[], angle[], each M long) once per call, so for a row i the loop over j reads eight
// contiguous streams and the compiler vectorizes pair_value<K> across j (8 floats per AVX2
// register). Each output element is written once, in order: the kernel is bound by the
// output write, O(N*M) stores and O(N+M) loads.
#include "boxes/box_math.h"
#include "boxes/boxes_cpu.h"

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

}  // namespace

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
