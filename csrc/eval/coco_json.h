// A fast reader of COCO JSON files into columns: the ground-truth file ("images",
// "annotations", "categories") or a detection results file (a list of objects). It extracts
// only what evaluation needs (ids, boxes, areas, crowds, scores, keypoints) and checks the
// grammar of everything it skips (segmentations, captions, info).
// It is deliberately strict: anything unusual (an id that is not an integer, a missing or
// malformed field, a non-finite number) makes it return false, and the caller falls back to
// Python's json module, which reads anything and reports errors precisely.
// Cost: one pass over the bytes; numbers parse with std::from_chars (correctly rounded, the
// same doubles as Python's float()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvk {
namespace eval {

struct CocoColumns {
  std::vector<int64_t> image_ids;     // "images"[].id, file order (ground truth only)
  std::vector<int64_t> category_ids;  // "categories"[].id (ground truth only)
  // annotations (ground truth) or results
  std::vector<int64_t> img, cat, id;  // id: ground truth only
  std::vector<double> box, area, score;
  std::vector<uint8_t> crowd;
  // keypoints: each annotation's "keypoints" numbers, flat, and their count (-1: none);
  // "num_keypoints" (ground truth; NaN: none)
  std::vector<double> kpts, num_kpts;
  std::vector<int64_t> kp_len;
  // results: the loadRes rule the first result chose (box: area w * h; keypoints: the box and
  // area of the keypoints' extent)
  enum Rule { kBoxRule = 0, kKeypointRule = 1 };
  Rule result_rule = kBoxRule;
};

// Returns true on success; on false, `why` says what was unusual.
bool read_coco_json(const std::string& path, bool results, CocoColumns& out, std::string& why);

}  // namespace eval
}  // namespace cvk
