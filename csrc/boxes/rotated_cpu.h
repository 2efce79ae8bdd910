// Rotated-box kernels on the CPU.
#pragma once

#include <cstdint>

namespace cvk {
namespace boxes {

// out (n, m): IoU of a (n, 5) and b (m, 5) boxes (cx, cy, w, h, angle in degrees).
template <class T>
void box_iou_rotated(const T* a, int64_t n, const T* b, int64_t m, T* out);

}  // namespace boxes
}  // namespace cvk
