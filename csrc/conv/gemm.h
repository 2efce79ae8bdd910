// A small packed GEMM for the convolution kernels: C (M x N) = A (M x K) * B (K x N), or
// C += A * B. Operands are read through packing callbacks, so a convolution packs its im2col
// panels straight from the image (no K x N buffer) and a transposed operand costs nothing.
//
// Algorithm (the BLIS / GotoBLAS scheme): K is cut into KC-deep slices, N into NC-wide blocks
// (one per task on the thread pool), M into MC-tall blocks; each block of B is packed into
// NR-wide column panels and each block of A into MR-tall row panels, contiguous in k, and an
// MR x NR register-blocked micro-kernel (float: 6 x 32, in 12 zmm registers with AVX-512, as
// two 6 x 16 halves in 12 ymm registers each with AVX2/FMA) runs over every pair of panels.
// All of A is packed once per call, up front, and shared by the tasks; each task packs its
// own blocks of B. Cost: 2 M N K flops; each operand element is packed once.
#pragma once

#include <cstdint>
#include <functional>

namespace cvk {
namespace conv {

// Writes B[k0 .. k0+kc) x [n0 .. n0+nc) into `panel`: for each NR-wide column panel j (of
// ceil(nc / NR)), kc rows of NR values (zero past nc).
template <class T>
using PackB = std::function<void(int64_t k0, int64_t kc, int64_t n0, int64_t nc, T* panel)>;
// Writes A[m0 .. m0+mc) x [k0 .. k0+kc) into `panel`: for each MR-tall row panel i, kc columns
// of MR values (zero past mc).
template <class T>
using PackA = std::function<void(int64_t m0, int64_t mc, int64_t k0, int64_t kc, T* panel)>;

template <class T>
struct Tiles {
  static constexpr int64_t MR = sizeof(T) == 4 ? 6 : 4;
  static constexpr int64_t NR = sizeof(T) == 4 ? 32 : 8;
};

// C row-major with leading dimension ldc.
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const PackA<T>& pack_a, const PackB<T>& pack_b, T* C,
          int64_t ldc, bool accumulate);

// One MR x NR tile of C (+)= A panel (kc columns of MR values) x B panel (kc rows of NR values),
// on the best micro-kernel of this CPU; for callers that keep their own packed panels.
void micro_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate);

// Packers for plain row-major matrices (trans: the stored matrix is the transpose).
template <class T>
PackA<T> pack_matrix_a(const T* A, int64_t lda, bool trans);
template <class T>
PackB<T> pack_matrix_b(const T* B, int64_t ldb, bool trans);

namespace avx2 {
// 6 x 16 float micro-kernel: C[0..6) x [0..16) (+)= sum_k a[k * lda + 0..6) b[k * ldb + 0..16).
void micro_6x16(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                int64_t ldc, bool accumulate);
}
namespace avx512 {
// 6 x 32 float micro-kernel: C[0..6) x [0..32) (+)= sum_k a[k][0..6) b[k][0..32).
void micro_6x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate);
}

}  // namespace conv
}  // namespace cvk
