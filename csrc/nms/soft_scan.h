// Soft-NMS as a streaming scan (the float32 path on CPUs with AVX-512).
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

namespace avx512 {
// One round over lanes [0, m) (m a multiple of kSoftLanes): first applies box a (x1, y1, x2,
// y2, area) to the scores of the lanes in [lo, hi) (the only ones that may overlap it), then
// returns the position of the best alive lane (-1: none); adds the lanes that died to *died.
int64_t soft_scan(const SoftLanes& lanes, int64_t m, const float* a, int64_t lo, int64_t hi,
                  int method, float thr, float sigma, float score_thr, int64_t* died);
}  // namespace avx512

}  // namespace nms
}  // namespace cvk
