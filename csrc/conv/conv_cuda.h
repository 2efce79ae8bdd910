// CUDA entry points of the dilated convolution (built with CVK_CUDA=ON): the buffers and the
// ConvShape of conv_cpu.h, plus the caller's stream. Every sum runs in a fixed order, so the
// results are deterministic (no atomics).
#pragma once

#include "conv/conv_cpu.h"

namespace cvk {
namespace conv {

void conv2d_forward_cuda(int dtype, const void* x, const void* w, const void* bias, void* out,
                         const ConvShape& s, void* stream);
void conv2d_backward_cuda(int dtype, const void* grad_out, const void* x, const void* w,
                          void* grad_x, void* grad_w, void* grad_b, const ConvShape& s, void* stream);

}  // namespace conv
}  // namespace cvk
