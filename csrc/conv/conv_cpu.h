// CPU 2-D convolution with dilation (cross-correlation, as torch.nn.functional.conv2d):
// out[n, co, oh, ow] = bias[co] + sum_{ci, kh, kw} w[co, ci, kh, kw] *
//                      x[n, g*Cin/G + ci, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw]
// with zeros outside the input. Contiguous NCHW tensors, weights (Cout, Cin/G, KH, KW).
#pragma once

#include <cstdint>

namespace cvk {
namespace conv {

struct ConvShape {
  int64_t N, Cin, H, W, Cout, KH, KW;
  int64_t sh, sw, pt, pl, dh, dw, groups;  // stride, top / left padding, dilation, groups
  int64_t Ho, Wo;                          // output size (bottom / right padding implied)
};

void conv2d_forward(int dtype, const void* x, const void* w, const void* bias, void* out,
                    const ConvShape& s);
// Any of grad_x, grad_w, grad_b may be null (not wanted).
void conv2d_backward(int dtype, const void* grad_out, const void* x, const void* w,
                     void* grad_x, void* grad_w, void* grad_b, const ConvShape& s);

}  // namespace conv
}  // namespace cvk
