// CPU 2-D convolution with dilation (cross-correlation, as torch.nn.functional.conv2d):
// out[n, co, oh, ow] = bias[co] + sum_{ci, kh, kw} w[co, ci, kh, kw] *
//                      x[n, g*Cin/G + ci, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw]
// with zeros outside the input. Contiguous NCHW tensors, weights (Cout, Cin/G, KH, KW).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace cvk {
namespace conv {

struct ConvShape {
  int64_t N, Cin, H, W, Cout, KH, KW;
  int64_t sh, sw, pt, pl, dh, dw, groups;  // stride, top / left padding, dilation, groups
  int64_t Ho, Wo;                          // output size (bottom / right padding implied)
};

// From the 16 values in the order above (the Python side's conv_shape()).
inline ConvShape conv_shape_from(const std::vector<int64_t>& v) {
  if (v.size() != 16) throw std::invalid_argument("conv shape needs 16 values");
  return ConvShape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
}

void conv2d_forward(int dtype, const void* x, const void* w, const void* bias, void* out,
                    const ConvShape& s);
// Any of grad_x, grad_w, grad_b may be null (not wanted).
void conv2d_backward(int dtype, const void* grad_out, const void* x, const void* w,
                     void* grad_x, void* grad_w, void* grad_b, const ConvShape& s);

}  // namespace conv
}  // namespace cvk
