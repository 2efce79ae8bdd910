// label_bins (masks_simd_impl.h) with AVX-512F, chosen at run time: eight int64 pixels per step,
// narrowed to the uint32 bins by one vpmovqd (AVX2 needs a chain of shuffles for that).
#include <immintrin.h>

#include <cstdint>

#include "masks/masks_cpu.h"

namespace cvk {
namespace masks {
namespace avx512 {

void label_bins(const int64_t* p, const int64_t* t, int64_t len, int shift, int64_t ignore_index,
                uint32_t* bins) {
  const __m512i high = _mm512_set1_epi64(static_cast<int64_t>(~((uint64_t(1) << shift) - 1)));
  const __m512i ign = _mm512_set1_epi64(ignore_index);
  const __m512i ignored = _mm512_set1_epi32(static_cast<int>(ignored_bin(shift)));
  const __m512i invalid = _mm512_set1_epi32(static_cast<int>(invalid_bin(shift)));
  int64_t k = 0;
  for (; k + 8 <= len; k += 8) {
    const __m512i pv = _mm512_loadu_si512(p + k), tv = _mm512_loadu_si512(t + k);
    // Lane masks of the 8 pixels, used on the low 8 32-bit lanes.
    const __mmask16 in = _mm512_testn_epi64_mask(_mm512_or_si512(pv, tv), high);
    const __mmask16 skip = _mm512_cmpeq_epi64_mask(tv, ign);
    const __m512i bin = _mm512_castsi256_si512(
        _mm512_cvtepi64_epi32(_mm512_or_si512(_mm512_slli_epi64(pv, shift), tv)));
    const __m512i out = _mm512_mask_blend_epi32(skip, invalid, ignored);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(bins + k),
                        _mm512_castsi512_si256(_mm512_mask_blend_epi32(in, out, bin)));
  }
  const uint64_t hi = ~((uint64_t(1) << shift) - 1);
  for (; k < len; ++k) {
    const uint64_t pv = static_cast<uint64_t>(p[k]), tv = static_cast<uint64_t>(t[k]);
    bins[k] = ((pv | tv) & hi) == 0 ? static_cast<uint32_t>(pv << shift | tv)
                                    : (t[k] == ignore_index ? ignored_bin(shift) : invalid_bin(shift));
  }
}

}  // namespace avx512
}  // namespace masks
}  // namespace cvk
