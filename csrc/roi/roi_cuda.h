// CUDA entry points of RoIAlign and RoIPool (built with CVK_CUDA=ON). Same buffers and
// layouts as roi_cpu.h, plus `deterministic` for the backward passes and the caller's stream.
#pragma once

#include <cstdint>

#include "roi/roi_cpu.h"

namespace cvk {
namespace roi {

void roi_align_forward_cuda(int dtype, const void* input, bool channels_last, const void* rois,
                            Shape s, double scale, int64_t sampling_ratio, bool aligned,
                            const int64_t* out_rows, void* output, void* stream);
void roi_align_backward_cuda(int dtype, const void* grad_output, const void* rois, Shape s,
                             double scale, int64_t sampling_ratio, bool aligned,
                             bool channels_last, bool deterministic, void* grad_input,
                             void* stream);
void roi_pool_forward_cuda(int dtype, const void* input, bool channels_last, const void* rois,
                           Shape s, double scale, void* output, int32_t* argmax, void* stream);
void roi_pool_backward_cuda(int dtype, const void* grad_output, const int32_t* argmax,
                            const void* rois, Shape s, bool channels_last, bool deterministic,
                            void* grad_input, void* stream);

}  // namespace roi
}  // namespace cvk
