// Matching detections to ground truth in one image, the two rules in use.
//
// COCO (pycocotools evaluateImg): ground truth is visited with ignored ones last; for each IoU
// threshold t, each detection in the given (score) order takes the ground truth with the best
// IoU >= t that is still free (a crowd stays free); once it has a regular candidate it never
// moves to an ignored one. A detection matched to an ignored ground truth is ignored.
// VOC (the Pascal VOC devkit): each detection looks at the ground truth of highest IoU (first
// on ties); IoU > t (strict) makes it a true positive if that ground truth is free, a false
// positive (duplicate) if taken, and ignored if that ground truth is "difficult" (ignore).
//
// iou is (D, G) row-major; match (T, D) receives the matched ground-truth index or -1;
// dt_ignore (T, D) receives 1 for ignored detections. Cost O(T * D * G).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace cvk {
namespace eval {

void match_coco(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
                const uint8_t* crowd, const uint8_t* ignore, int32_t* match,
                uint8_t* dt_ignore);

// The same with the caller's scratch (no thread_local lookups in a loop over many groups).
struct MatchScratch {
  std::vector<int64_t> order;
  std::vector<uint8_t> taken;
};
void match_coco(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
                const uint8_t* crowd, const uint8_t* ignore, int32_t* match, uint8_t* dt_ignore,
                MatchScratch& scratch);

// match_coco's rule for at most kMatchBits ground truth and thresholds (nearly every image's
// share of a category), calling emit(t, d, matched ground truth or -1, ignored) once per
// threshold and detection: the ground truth's crowd and ignore flags as bit masks (bit j),
// the free candidates of each kind found by bit scans, in the same order (regular ground
// truth ascending, then ignored) and with the same ties (a later candidate of equal IoU wins)
// as the general loop. Each threshold's matching is independent, so the detections are the
// outer loop (one set of taken ground truth per threshold), and a detection whose every IoU
// is below the lowest threshold (most of them) is settled for all thresholds at once.
constexpr int64_t kMatchBits = 64;

template <class Emit>
void match_coco_bits(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T, uint64_t crowd_bits,
                     uint64_t ignore_bits, Emit&& emit) {
  const uint64_t all = G == 64 ? ~uint64_t(0) : (uint64_t(1) << G) - 1;
  const uint64_t regular = all & ~ignore_bits;
  double thr[kMatchBits];
  uint64_t taken[kMatchBits];  // per threshold: matched, and not a crowd (a crowd stays free)
  double lowest = 1.0;
  for (int64_t t = 0; t < T; ++t) {
    thr[t] = std::min(thrs[t], 1 - 1e-10);
    lowest = std::min(lowest, thr[t]);
    taken[t] = 0;
  }
  for (int64_t d = 0; d < D; ++d) {
    const double* row = iou + d * G;
    bool reaches = false;  // some IoU is not below the lowest threshold (a NaN IoU counts, as in pycocotools)
    for (int64_t j = 0; j < G; ++j) reaches |= !(row[j] < lowest);
    if (!reaches) {
      for (int64_t t = 0; t < T; ++t) emit(t, d, -1, false);
      continue;
    }
    for (int64_t t = 0; t < T; ++t) {
      // the free ground truth with IoU >= the threshold: regular ones if any, else ignored ones
      uint64_t above = 0;
      for (int64_t j = 0; j < G; ++j) above |= uint64_t(!(row[j] < thr[t])) << j;
      const uint64_t free = above & ~taken[t];
      uint64_t c = free & regular;
      if (c == 0) c = free & ignore_bits;
      int64_t m = -1;
      if (c != 0 && (c & (c - 1)) == 0) {  // one candidate (the usual case)
        m = __builtin_ctzll(c);
      } else {  // the loop's own rule over the candidates: a later one of equal IoU wins
        double best = thr[t];
        for (; c != 0; c &= c - 1) {
          const int64_t j = __builtin_ctzll(c);
          if (row[j] < best) continue;
          best = row[j];
          m = j;
        }
      }
      emit(t, d, m, m >= 0 && ((ignore_bits >> m) & 1));
      if (m >= 0) taken[t] |= (uint64_t(1) << m) & ~crowd_bits;
    }
  }
}

void match_voc(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
               const uint8_t* ignore, int32_t* match, uint8_t* dt_ignore);

}  // namespace eval
}  // namespace cvk
