// Rotated-box kernels on CUDA (rotated.h's arithmetic).
#pragma once

#include <cstdint>

namespace cvk {
namespace boxes {

// out (n, m) on the caller's stream; dtype 0 float32, 1 float64.
void box_iou_rotated_cuda(int dtype, const void* a, int64_t n, const void* b, int64_t m, void* out, void* stream);

}  // namespace boxes
}  // namespace cvk
