// The soft-NMS round of soft_scan.h with AVX2/FMA (chosen at run time when AVX-512 is absent):
// the AVX-512 version's passes, 8 lanes per step. AVX2 has no compress instruction: the hit
// lanes are moved to the front by a permutation looked up from the 8-bit hit mask. The
// arithmetic (IoU, exp in double, weights) is the same operation for operation, so both
// versions and the scalar path give the same bits.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "nms/soft_scan.h"

namespace cvk {
namespace nms {
namespace avx2 {
namespace {

// For each 8-bit mask, the lanes whose bit is set, in order, then zeros.
struct CompressTable {
  alignas(32) int32_t idx[256][8];
  CompressTable() {
    for (int mask = 0; mask < 256; ++mask) {
      int n = 0;
      for (int l = 0; l < 8; ++l)
        if (mask & (1 << l)) idx[mask][n++] = l;
      while (n < 8) idx[mask][n++] = 0;
    }
  }
};
const CompressTable kCompress;

// e^x for 4 doubles, x in [kExpMin, 0] (soft_scan.h).
inline __m256d exp_pd(__m256d x) {
  x = _mm256_max_pd(x, _mm256_set1_pd(kExpMin));
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Hi), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Lo), r);
  __m256d p = _mm256_set1_pd(kInvFact[11]);
  for (int k = 10; k >= 0; --k) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInvFact[k]));
  const __m256d biased = _mm256_add_pd(n, _mm256_set1_pd(kExpBias));
  const __m256i bits = _mm256_slli_epi64(_mm256_castpd_si256(biased), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

}  // namespace

int64_t soft_scan(const SoftLanes& L, int64_t m, const float* a, int64_t lo, int64_t hi,
                  int method, float thr, float sigma, float score_thr, int64_t* died) {
  constexpr int64_t W = 8;
  float* __restrict__ score = L.score;
  if (lo < hi) {
    const float* __restrict__ x1 = L.x1;
    const float* __restrict__ y1 = L.y1;
    const float* __restrict__ x2 = L.x2;
    const float* __restrict__ y2 = L.y2;
    const float* __restrict__ area = L.area;
    int32_t* __restrict__ hit_pos = L.hit_pos;
    float* __restrict__ hit_inter = L.hit_inter;
    float* __restrict__ hit_union = L.hit_union;
    const __m256 ax1 = _mm256_set1_ps(a[0]), ay1 = _mm256_set1_ps(a[1]);
    const __m256 ax2 = _mm256_set1_ps(a[2]), ay2 = _mm256_set1_ps(a[3]);
    const __m256 aarea = _mm256_set1_ps(a[4]);
    const __m256 zero = _mm256_setzero_ps(), inf = _mm256_set1_ps(INFINITY);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // 1. Overlap test (see soft_scan_avx512.cpp; min/max return the second operand on NaN
    // here too), hits appended to the lists.
    int64_t n_hit = 0;
    for (int64_t j = lo / W * W; j < hi; j += W) {
      const __m256 dx = _mm256_sub_ps(_mm256_min_ps(ax2, _mm256_loadu_ps(x2 + j)),
                                      _mm256_max_ps(ax1, _mm256_loadu_ps(x1 + j)));
      const __m256 dy = _mm256_sub_ps(_mm256_min_ps(ay2, _mm256_loadu_ps(y2 + j)),
                                      _mm256_max_ps(ay1, _mm256_loadu_ps(y1 + j)));
      const __m256 s = _mm256_loadu_ps(score + j);
      const __m256 inter = _mm256_mul_ps(dx, dy);
      const __m256 uni = _mm256_sub_ps(_mm256_add_ps(aarea, _mm256_loadu_ps(area + j)), inter);
      const __m256 ok = _mm256_and_ps(
          _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(dx, zero, _CMP_GT_OQ), _mm256_cmp_ps(dy, zero, _CMP_GT_OQ)),
                        _mm256_cmp_ps(s, s, _CMP_ORD_Q)),
          _mm256_and_ps(_mm256_cmp_ps(uni, zero, _CMP_GT_OQ), _mm256_cmp_ps(uni, inf, _CMP_LT_OQ)));
      const int hit = _mm256_movemask_ps(ok);
      const __m256i perm = _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress.idx[hit]));
      const __m256i p = _mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int32_t>(j)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(hit_pos + n_hit), _mm256_permutevar8x32_epi32(p, perm));
      _mm256_storeu_ps(hit_inter + n_hit, _mm256_permutevar8x32_ps(inter, perm));
      _mm256_storeu_ps(hit_union + n_hit, _mm256_permutevar8x32_ps(uni, perm));
      n_hit += __builtin_popcount(static_cast<unsigned>(hit));
    }
    // 2. The weights of the hits, 8 at a time (the lists have room past n_hit).
    const __m256 one = _mm256_set1_ps(1.0f), vthr = _mm256_set1_ps(thr);
    const __m256 vsigma = _mm256_set1_ps(sigma);
    for (int64_t h = 0; h < n_hit; h += W) {
      const __m256 iou = _mm256_div_ps(_mm256_loadu_ps(hit_inter + h), _mm256_loadu_ps(hit_union + h));
      __m256 w;
      if (method == 0) {
        const __m256 t = _mm256_div_ps(_mm256_sub_ps(zero, _mm256_mul_ps(iou, iou)), vsigma);
        const __m128 lo4 = _mm256_cvtpd_ps(exp_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(t))));
        const __m128 hi4 = _mm256_cvtpd_ps(exp_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(t, 1))));
        w = _mm256_insertf128_ps(_mm256_castps128_ps256(lo4), hi4, 1);
      } else {
        w = _mm256_blendv_ps(one, _mm256_sub_ps(one, iou), _mm256_cmp_ps(iou, vthr, _CMP_GT_OQ));
      }
      _mm256_storeu_ps(hit_inter + h, w);
    }
    // 3. Apply them.
    *died += apply_weights(score, hit_pos, hit_inter, n_hit, score_thr);
  }
  // Argmax: per lane (score, rank, position), four accumulators. The rank starts at INT32_MAX
  // (ranks are smaller), so any ordered score beats "none yet"; a NaN (dead) never wins.
  constexpr int kAcc = 4;
  __m256 best[kAcc];
  __m256i best_rank[kAcc], best_pos[kAcc];
  for (int u = 0; u < kAcc; ++u) {
    best[u] = _mm256_set1_ps(-INFINITY);
    best_rank[u] = _mm256_set1_epi32(INT32_MAX);
    best_pos[u] = _mm256_set1_epi32(-1);
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  auto take = [&](int u, int64_t j) {
    const __m256 s = _mm256_loadu_ps(score + j);
    const __m256i rank = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(L.member + j));
    const __m256 better = _mm256_or_ps(
        _mm256_cmp_ps(s, best[u], _CMP_GT_OQ),
        _mm256_and_ps(_mm256_cmp_ps(s, best[u], _CMP_EQ_OQ),
                      _mm256_castsi256_ps(_mm256_cmpgt_epi32(best_rank[u], rank))));
    const __m256i b = _mm256_castps_si256(better);
    best[u] = _mm256_blendv_ps(best[u], s, better);
    best_rank[u] = _mm256_blendv_epi8(best_rank[u], rank, b);
    best_pos[u] = _mm256_blendv_epi8(
        best_pos[u], _mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int32_t>(j))), b);
  };
  int64_t j = 0;
  for (; j + kAcc * W <= m; j += kAcc * W)
    for (int u = 0; u < kAcc; ++u) take(u, j + u * W);
  for (; j < m; j += W) take(0, j);
  alignas(32) float bs[W];
  alignas(32) int32_t br[W], bp[W];
  int64_t arg = -1;
  for (int u = 0; u < kAcc; ++u) {
    _mm256_store_ps(bs, best[u]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(br), best_rank[u]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(bp), best_pos[u]);
    arg = best_of(bs, br, bp, W, L, arg);
  }
  return arg;
}

}  // namespace avx2
}  // namespace nms
}  // namespace cvk
