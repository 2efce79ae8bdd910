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

void match_voc(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
               const uint8_t* ignore, int32_t* match, uint8_t* dt_ignore);

}  // namespace eval
}  // namespace cvk
