// Soft-NMS as a streaming scan (the float32 path on CPUs with AVX-512 or AVX2).
//
// The alive boxes of one class sit in structure-of-arrays lanes sorted by x1, padded with dead
// lanes to a multiple of 16; a dead lane has a NaN score. Each round, after the caller took
// the selected box a out:
//   1. decay, over the lanes with a.x1 - (widest box) < x1 < a.x2 only (the caller finds that
//      window by binary search; no other box can overlap a): a branch-free 16-lane overlap
//      test lists the lanes with IoU > 0, then their weights are computed 16 at a time,
//      exp(-iou^2 / sigma) (gaussian) or iou > thr ? 1 - iou : 1 (linear), with the IoU in
//      box_math.h's operation order and exp correctly rounded, as the scalar path (so the bits
//      agree); a box whose score falls below score_thr dies;
//   2. argmax over all lanes: the highest score, ties to the lower index, is the next
//      selection.
// Cost per round: O(window / 16) + O(alive / 16) vector steps plus O(hits); the caller
// compacts the lanes when half of them are dead. Compared with the grid-and-heap scalar path
// there is no pointer chasing, no heap and no unpredictable branch per candidate.
#pragma once

#include <cmath>
#include <cstdint>

namespace cvk {
namespace nms {

constexpr int64_t kSoftLanes = 16;

struct SoftLanes {
  float* x1;
  float* y1;
  float* x2;
  float* y2;
  float* area;
  float* score;  // NaN = dead
  int32_t* member;  // the box's rank in index order (ties in score go to the lower one)
  // Scratch, m + kSoftLanes long: the lanes a round decays, their intersections and unions.
  int32_t* hit_pos;
  float* hit_inter;
  float* hit_union;
};

// Pieces both SIMD versions share.
//
// e^x (x in [kExpMin, 0]) as they compute it in double: x = n ln2 + r (Cody-Waite, |r| <=
// ln2 / 2), e^r by its Taylor series to degree 11 (relative error below 1e-14), times 2^n put
// in the exponent bits as the low bits of n + kExpBias. Rounded to float this is the correctly
// rounded expf, as soft_exp (nms_math.h) is, unless e^x lies within 1e-14 (relative) of a
// rounding boundary.
constexpr double kExpMin = -150.0, kLog2e = 1.4426950408889634;
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kExpBias = 1023.0 + 6755399441055744.0;  // 1023 + 1.5 * 2^52
constexpr double kInvFact[12] = {1.0,       1.0,        1.0 / 2,      1.0 / 6,
                                 1.0 / 24,  1.0 / 120,  1.0 / 720,    1.0 / 5040,
                                 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800};

// score[pos[h]] *= w[h] for the n hits; a score that falls below score_thr (or is NaN) dies
// (NaN). Returns the deaths.
inline int64_t apply_weights(float* score, const int32_t* pos, const float* w, int64_t n,
                             float score_thr) {
  int64_t dead = 0;
  for (int64_t h = 0; h < n; ++h) {
    float& sc = score[pos[h]];
    sc *= w[h];
    if (!(sc >= score_thr)) {
      sc = NAN;
      ++dead;
    }
  }
  return dead;
}

// Merges per-lane argmax candidates (score, member rank, position; position < 0: none) into
// arg (a position or -1): the highest score, ties to the lower rank.
inline int64_t best_of(const float* bs, const int32_t* br, const int32_t* bp, int n,
                       const SoftLanes& L, int64_t arg) {
  for (int l = 0; l < n; ++l) {
    if (bp[l] < 0) continue;
    if (arg < 0 || bs[l] > L.score[arg] || (bs[l] == L.score[arg] && br[l] < L.member[arg]))
      arg = bp[l];
  }
  return arg;
}

namespace avx2 {
int64_t soft_scan(const SoftLanes& lanes, int64_t m, const float* a, int64_t lo, int64_t hi,
                  int method, float thr, float sigma, float score_thr, int64_t* died);
}  // namespace avx2

namespace avx512 {
// One round over lanes [0, m) (m a multiple of kSoftLanes): first applies box a (x1, y1, x2,
// y2, area) to the scores of the lanes in [lo, hi) (the only ones that may overlap it), then
// returns the position of the best alive lane (-1: none); adds the lanes that died to *died.
int64_t soft_scan(const SoftLanes& lanes, int64_t m, const float* a, int64_t lo, int64_t hi,
                  int method, float thr, float sigma, float score_thr, int64_t* died);
}  // namespace avx512

}  // namespace nms
}  // namespace cvk
