// Rotated-box kernels on the CPU.
#pragma once

#include <cstdint>

namespace cvk {
namespace boxes {

// out (n, m): IoU of a (n, 5) and b (m, 5) boxes (cx, cy, w, h, angle in degrees).
template <class T>
void box_iou_rotated(const T* a, int64_t n, const T* b, int64_t m, T* out);

// Greedy NMS of rotated boxes (detectron2's nms_rotated): in descending score order (ties by
// index, NaN scores last), keep a box and drop the later ones whose rotated IoU with it exceeds
// threshold; with idxs, only boxes of the same idx suppress each other (batched). Writes the
// kept indices, in that order, to keep; returns their count. O(n k) IoUs for k kept.
template <class T>
int64_t nms_rotated(const T* boxes, const T* scores, const int64_t* idxs, int64_t n, double threshold,
                    int64_t* keep);

}  // namespace boxes
}  // namespace cvk
