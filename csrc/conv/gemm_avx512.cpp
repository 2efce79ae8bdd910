// The AVX-512 micro-kernel of gemm.h: a 6 x 32 block of C in 12 zmm accumulators; each k
// loads 32 values of B (two registers), broadcasts 6 of A, and issues 12 FMAs. Chosen at run
// time (use_avx512()); on CPUs with full-width 512-bit FMA units it doubles the AVX2 rate.
#include <immintrin.h>

#include "conv/gemm.h"

namespace cvk {
namespace conv {
namespace avx512 {

void micro_6x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  __m512 acc[6][2];
  for (int r = 0; r < 6; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b + 32 * k), b1 = _mm512_loadu_ps(b + 32 * k + 16);
    const float* ak = a + 6 * k;
#pragma GCC unroll 6
    for (int r = 0; r < 6; ++r) {
      const __m512 x = _mm512_set1_ps(ak[r]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < 6; ++r) {
    float* row = c + r * ldc;
    if (accumulate) {
      _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[r][0]));
      _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[r][1]));
    } else {
      _mm512_storeu_ps(row, acc[r][0]);
      _mm512_storeu_ps(row + 16, acc[r][1]);
    }
  }
}

}  // namespace avx512
}  // namespace conv
}  // namespace cvk
