// The soft-NMS round of soft_scan.h with AVX-512 (compiled with -mavx512f, chosen at run time).
// Per round: a branch-free overlap pass that lists the hits, their weights 16 at a time, the
// decay, then the argmax pass.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "nms/soft_scan.h"

namespace cvk {
namespace nms {
namespace avx512 {
namespace {

// e^x for 8 doubles, x in [kExpMin, 0] (soft_scan.h).
inline __m512d exp_pd(__m512d x) {
  x = _mm512_max_pd(x, _mm512_set1_pd(kExpMin));
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(kLog2e)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Hi), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Lo), r);
  __m512d p = _mm512_set1_pd(kInvFact[11]);
  for (int k = 10; k >= 0; --k) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kInvFact[k]));
  const __m512d biased = _mm512_add_pd(n, _mm512_set1_pd(kExpBias));
  const __m512i bits = _mm512_slli_epi64(_mm512_castpd_si512(biased), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(bits));
}

}  // namespace

int64_t soft_scan(const SoftLanes& L, int64_t m, const float* a, int64_t lo, int64_t hi,
                  int method, float thr, float sigma, float score_thr, int64_t* died) {
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
    const __m512 ax1 = _mm512_set1_ps(a[0]), ay1 = _mm512_set1_ps(a[1]);
    const __m512 ax2 = _mm512_set1_ps(a[2]), ay2 = _mm512_set1_ps(a[3]);
    const __m512 aarea = _mm512_set1_ps(a[4]);
    const __m512 zero = _mm512_setzero_ps(), inf = _mm512_set1_ps(INFINITY);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // 1. Overlap test, no branch: the lanes with IoU > 0 append (position, intersection,
    // union) to the hit lists. box_math.h: iw = max(min(a.x2, b.x2) - max(a.x1, b.x1), 0);
    // with b second, a NaN in b gives NaN, which fails "> 0" as it makes the scalar IoU NaN
    // or 0. inter / uni > 0 with inter > 0 is uni > 0 and finite.
    int64_t n_hit = 0;
    for (int64_t j = lo / kSoftLanes * kSoftLanes; j < hi; j += kSoftLanes) {
      const __m512 dx = _mm512_sub_ps(_mm512_min_ps(ax2, _mm512_loadu_ps(x2 + j)),
                                      _mm512_max_ps(ax1, _mm512_loadu_ps(x1 + j)));
      const __m512 dy = _mm512_sub_ps(_mm512_min_ps(ay2, _mm512_loadu_ps(y2 + j)),
                                      _mm512_max_ps(ay1, _mm512_loadu_ps(y1 + j)));
      const __m512 s = _mm512_loadu_ps(score + j);
      const __m512 inter = _mm512_mul_ps(dx, dy);
      const __m512 uni = _mm512_sub_ps(_mm512_add_ps(aarea, _mm512_loadu_ps(area + j)), inter);
      const __mmask16 hit = _mm512_cmp_ps_mask(dx, zero, _CMP_GT_OQ) &
                            _mm512_cmp_ps_mask(dy, zero, _CMP_GT_OQ) &
                            _mm512_cmp_ps_mask(s, s, _CMP_ORD_Q) &
                            _mm512_cmp_ps_mask(uni, zero, _CMP_GT_OQ) &
                            _mm512_cmp_ps_mask(uni, inf, _CMP_LT_OQ);
      const __m512i p = _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(j)));
      _mm512_storeu_si512(hit_pos + n_hit, _mm512_maskz_compress_epi32(hit, p));
      _mm512_storeu_ps(hit_inter + n_hit, _mm512_maskz_compress_ps(hit, inter));
      _mm512_storeu_ps(hit_union + n_hit, _mm512_maskz_compress_ps(hit, uni));
      n_hit += __builtin_popcount(hit);
    }
    // 2. The weights of the hits, 16 at a time (the lists have room past n_hit):
    // iou = inter / uni, then exp(-(iou * iou) / sigma) or (iou > thr ? 1 - iou : 1).
    const __m512 one = _mm512_set1_ps(1.0f), vthr = _mm512_set1_ps(thr);
    const __m512 vsigma = _mm512_set1_ps(sigma);
    for (int64_t h = 0; h < n_hit; h += kSoftLanes) {
      const __m512 iou = _mm512_div_ps(_mm512_loadu_ps(hit_inter + h), _mm512_loadu_ps(hit_union + h));
      __m512 w;
      if (method == 0) {
        const __m512 t = _mm512_div_ps(_mm512_sub_ps(zero, _mm512_mul_ps(iou, iou)), vsigma);
        const __m256 lo = _mm512_cvtpd_ps(exp_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(t))));
        const __m256 hi = _mm512_cvtpd_ps(exp_pd(_mm512_cvtps_pd(
            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1)))));
        w = _mm512_castpd_ps(_mm512_insertf64x4(
            _mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
      } else {
        w = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(iou, vthr, _CMP_GT_OQ), one,
                                 _mm512_sub_ps(one, iou));
      }
      _mm512_storeu_ps(hit_inter + h, w);
    }
    // 3. Apply them.
    const int64_t dead = apply_weights(score, hit_pos, hit_inter, n_hit, score_thr);
    *died += dead;
  }
  // Argmax: the highest score, ties to the lower member rank. Per lane the best so far, its
  // rank and position; the rank starts at 0xffffffff (unsigned compare), so any ordered score
  // beats "none yet" (-inf included) and a NaN (dead) never wins. Four independent
  // accumulators (chunks j, j+16, j+32, j+48) hide the compare-and-blend latency.
  constexpr int kAcc = 4;
  __m512 best[kAcc];
  __m512i best_rank[kAcc], best_pos[kAcc];
  for (int u = 0; u < kAcc; ++u) {
    best[u] = _mm512_set1_ps(-INFINITY);
    best_rank[u] = _mm512_set1_epi32(-1);
    best_pos[u] = _mm512_set1_epi32(-1);
  }
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  auto take = [&](int u, int64_t j) {
    const __m512 s = _mm512_loadu_ps(score + j);
    const __m512i rank = _mm512_loadu_si512(L.member + j);
    const __mmask16 better = _mm512_cmp_ps_mask(s, best[u], _CMP_GT_OQ) |
                             (_mm512_cmp_ps_mask(s, best[u], _CMP_EQ_OQ) &
                              _mm512_cmplt_epu32_mask(rank, best_rank[u]));
    best[u] = _mm512_mask_blend_ps(better, best[u], s);
    best_rank[u] = _mm512_mask_blend_epi32(better, best_rank[u], rank);
    best_pos[u] = _mm512_mask_blend_epi32(
        better, best_pos[u], _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(j))));
  };
  int64_t j = 0;
  for (; j + kAcc * kSoftLanes <= m; j += kAcc * kSoftLanes)
    for (int u = 0; u < kAcc; ++u) take(u, j + u * kSoftLanes);
  for (; j < m; j += kSoftLanes) take(0, j);
  alignas(64) float bs[kSoftLanes];
  alignas(64) int32_t br[kSoftLanes], bp[kSoftLanes];
  int64_t arg = -1;
  for (int u = 0; u < kAcc; ++u) {
    _mm512_store_ps(bs, best[u]);
    _mm512_store_si512(br, best_rank[u]);
    _mm512_store_si512(bp, best_pos[u]);
    arg = best_of(bs, br, bp, kSoftLanes, L, arg);
  }
  return arg;
}

}  // namespace avx512
}  // namespace nms
}  // namespace cvk
