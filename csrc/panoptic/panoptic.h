// Panoptic quality (Kirillov et al., "Panoptic Segmentation", 2019) with COCO panoptic's rules,
// as panopticapi's pq_compute evaluates them.
//
// Per image pair (ground-truth and predicted segment-id maps of one size, plus each side's
// segment table: id, category, and for the ground truth iscrowd and area):
//   1. Count the pixels of each distinct (gt id, pred id) pair. Segments are contiguous, so
//      pixels are taken in runs of equal pairs along the rows; the runs are sorted by pair and
//      merged, which also gives panopticapi's order (np.unique's) for the matches below.
//   2. A predicted segment's area is its pixel count (the sum of its pairs); every id on the
//      predicted map must be in its table (or 0, void) and every table id on the map.
//   3. Match: a non-crowd gt segment and a predicted segment of the same category whose
//      IoU = inter / (pred area + gt area - inter - pred pixels on void) is > 0.5 (unique).
//      Matches add 1 to tp and the IoU to the category's IoU sum.
//   4. Unmatched non-crowd gt segments add to fn; unmatched predictions add to fp unless more
//      than half of their pixels lie on void or on the crowd region of their category (the
//      last crowd gt segment of that category in the table).
// Cost: O(pixels) for the runs, O(runs log runs) for the sort, O(segments) for the rest; the
// images are independent and run in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvk {
namespace panoptic {

// How the maps hold ids: int32, int64, or COCO panoptic's PNG colours (3 uint8 per pixel,
// id = R + 256 G + 256^2 B).
enum class MapKind : int { I32 = 0, I64 = 1, RGB = 2 };

// One image pair: id maps of `pixels` entries each (row-major; 0 = void) and the segment
// tables (categories are dense indices in [0, num_categories)).
struct ImagePair {
  const void* gt_map;
  const void* pred_map;
  MapKind kind;
  int64_t pixels;
  int64_t row;  // pixels per row (runs do not cross rows)
  const int64_t* gt_id;
  const int64_t* gt_cat;
  const uint8_t* gt_crowd;
  const double* gt_area;
  int64_t n_gt;
  const int64_t* pred_id;
  const int64_t* pred_cat;
  int64_t n_pred;
};

// Per-category totals over all images: tp, fp, fn counts and the IoU sum of the matches. The
// IoUs are added in image order, and within an image in (gt id, pred id) order, the order of
// panopticapi's single-process loop. Returns an empty string, or the first image's error
// ("image i: ...": an id on the predicted map missing from its table, or a table id absent
// from the map).
std::string pq_stats(const std::vector<ImagePair>& images, int64_t num_categories, int64_t* tp, int64_t* fp,
                     int64_t* fn, double* iou);

}  // namespace panoptic
}  // namespace cvk
