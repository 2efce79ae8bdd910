#include "common/transpose.h"

#include <algorithm>

#include "common/cpu_features.h"
#include "common/cvk.h"
#include "common/thread_pool.h"

namespace cvk {
namespace {

// Blocks of 64 x 64: both the rows read and the rows written stay in L1/L2.
constexpr int64_t kTile = 64;

template <class T>
void tile_scalar(const T* src, T* dst, int64_t A, int64_t B, int64_t a0, int64_t a1, int64_t b0,
                 int64_t b1) {
  for (int64_t a = a0; a < a1; ++a)
    for (int64_t b = b0; b < b1; ++b) dst[b * A + a] = src[a * B + b];
}

void tile_f32(const float* src, float* dst, int64_t A, int64_t B, int64_t a0, int64_t a1,
              int64_t b0, int64_t b1, bool simd) {
  if (!simd) return tile_scalar(src, dst, A, B, a0, a1, b0, b1);
  int64_t a = a0;
  for (; a + 8 <= a1; a += 8) {
    int64_t b = b0;
    for (; b + 8 <= b1; b += 8) avx2::transpose8x8(src + a * B + b, B, dst + b * A + a, A);
    tile_scalar(src, dst, A, B, a, a + 8, b, b1);
  }
  tile_scalar(src, dst, A, B, a, a1, b0, b1);
}

template <class T>
void transpose_typed(const T* in, T* out, int64_t N, int64_t A, int64_t B) {
  const int64_t ta = (A + kTile - 1) / kTile, tb = (B + kTile - 1) / kTile;
  const bool simd = use_avx2();
  advise_huge_pages(out, N * A * B * static_cast<int64_t>(sizeof(T)));
  parallel_for(0, N * ta * tb, 8, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / (ta * tb), r = t % (ta * tb);
      const int64_t a0 = (r / tb) * kTile, b0 = (r % tb) * kTile;
      const int64_t a1 = std::min(A, a0 + kTile), b1 = std::min(B, b0 + kTile);
      const T* src = in + n * A * B;
      T* dst = out + n * A * B;
      if constexpr (std::is_same<T, float>::value) {
        tile_f32(src, dst, A, B, a0, a1, b0, b1, simd);
      } else {
        tile_scalar(src, dst, A, B, a0, a1, b0, b1);
      }
    }
  });
}

}  // namespace

void transpose_batched(int dtype, const void* in, void* out, int64_t N, int64_t A, int64_t B) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    transpose_typed<T>(static_cast<const T*>(in), static_cast<T*>(out), N, A, B);
  });
}

}  // namespace cvk
