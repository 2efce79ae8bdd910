// Entry points of the dilated convolution (csrc/conv/), shared by _C and _C_cuda. C++ derives
// the whole ConvShape from the buffers and the hyper-parameters: input (N, Cin, H, W), weight
// (Cout, Cin / groups, KH, KW), bias (Cout,) or None, output (N, Cout, Ho, Wo) with
// Ho = (H + pt + pb - dh (KH - 1) - 1) / sh + 1 (Wo alike); padding is (top, left, bottom, right).
#pragma once

#include <vector>

#include "bindings/device.h"
#include "conv/conv_cpu.h"
#include "conv/conv_cuda.h"

namespace cvk {
namespace bindings {

namespace conv_detail {

inline int64_t at(const std::vector<int64_t>& v, size_t n, size_t i, const char* name) {
  if (v.size() != n) throw py::value_error(std::string(name) + " must have " + std::to_string(n) + " values");
  return v[i];
}

// The ConvShape of x and w with the given hyper-parameters, every size checked.
inline cvk::conv::ConvShape conv_shape(const Buffer& x, const Buffer& w, const std::vector<int64_t>& stride,
                                       const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
                                       int64_t groups) {
  cvk::conv::ConvShape s{};
  s.N = x.size(0), s.Cin = x.size(1), s.H = x.size(2), s.W = x.size(3);
  s.Cout = w.size(0), s.KH = w.size(2), s.KW = w.size(3);
  s.sh = at(stride, 2, 0, "stride"), s.sw = at(stride, 2, 1, "stride");
  s.pt = at(padding, 4, 0, "padding"), s.pl = at(padding, 4, 1, "padding");
  const int64_t pb = at(padding, 4, 2, "padding"), pr = at(padding, 4, 3, "padding");
  s.dh = at(dilation, 2, 0, "dilation"), s.dw = at(dilation, 2, 1, "dilation");
  s.groups = groups;
  if (s.sh < 1 || s.sw < 1 || s.dh < 1 || s.dw < 1 || s.pt < 0 || s.pl < 0 || pb < 0 || pr < 0 || groups < 1)
    throw py::value_error("need stride >= 1, dilation >= 1, padding >= 0 and groups >= 1");
  if (s.Cin % groups || s.Cout % groups || w.size(1) != s.Cin / groups)
    throw py::value_error("weight " + w.shape_str() + " does not fit input " + x.shape_str() + " with groups=" +
                          std::to_string(groups));
  if (s.KH < 1 || s.KW < 1) throw py::value_error("weight's kernel size must be >= 1");
  const int64_t eh = s.H + s.pt + pb - s.dh * (s.KH - 1), ew = s.W + s.pl + pr - s.dw * (s.KW - 1);
  if (eh < 1 || ew < 1) throw py::value_error("input plus padding is smaller than the dilated kernel");
  s.Ho = (eh - 1) / s.sh + 1;
  s.Wo = (ew - 1) / s.sw + 1;
  return s;
}

}  // namespace conv_detail

template <class Dev>
void register_conv(py::module_& m) {
  using conv_detail::conv_shape;
  constexpr int D = Dev::device_type;
  m.def("conv2d_forward", [](py::handle x_, py::handle w_, py::handle b_, py::handle out_,
                             const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                             const std::vector<int64_t>& dilation, int64_t groups, uintptr_t stream) {
    Buffer x = take_on(x_, "input", D), w = take_on(w_, "weight", D), out = take_on(out_, "out", D);
    Buffer b = take_opt(b_, "bias", D);
    x.floating();
    x.rank(4);
    w.like(x).on(x).rank(4);
    if (!b_.is_none()) b.like(x).on(x).is_shape({w.size(0)});
    const cvk::conv::ConvShape s = conv_shape(x, w, stride, padding, dilation, groups);
    out.like(x).on(x).writable().is_shape({s.N, s.Cout, s.Ho, s.Wo});
    if (out.numel() == 0) return;
    typename Dev::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      cvk::conv::conv2d_forward_cuda(x.floating(), x.data, w.data, b.data, out.data, s, reinterpret_cast<void*>(stream));
    else
      cvk::conv::conv2d_forward(x.floating(), x.data, w.data, b.data, out.data, s);
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("stride"), py::arg("padding"),
     py::arg("dilation"), py::arg("groups"), py::arg("stream") = 0);

  // grad_input, grad_weight, grad_bias: a buffer to fill, or None when not wanted.
  m.def("conv2d_backward", [](py::handle g_, py::handle x_, py::handle w_, py::handle gx_, py::handle gw_,
                              py::handle gb_, const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                              const std::vector<int64_t>& dilation, int64_t groups, uintptr_t stream) {
    Buffer g = take_on(g_, "grad", D), x = take_on(x_, "input", D), w = take_on(w_, "weight", D);
    Buffer gx = take_opt(gx_, "grad_input", D), gw = take_opt(gw_, "grad_weight", D), gb = take_opt(gb_, "grad_bias", D);
    x.floating();
    x.rank(4);
    w.like(x).on(x).rank(4);
    const cvk::conv::ConvShape s = conv_shape(x, w, stride, padding, dilation, groups);
    g.like(x).on(x).is_shape({s.N, s.Cout, s.Ho, s.Wo});
    if (!gx_.is_none()) gx.like(x).on(x).writable().is_shape(x.shape);
    if (!gw_.is_none()) gw.like(x).on(x).writable().is_shape(w.shape);
    if (!gb_.is_none()) gb.like(x).on(x).writable().is_shape({s.Cout});
    if (gx_.is_none() && gw_.is_none() && gb_.is_none()) return;
    typename Dev::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      cvk::conv::conv2d_backward_cuda(x.floating(), g.data, x.data, w.data, gx.data, gw.data, gb.data, s,
                                      reinterpret_cast<void*>(stream));
    else
      cvk::conv::conv2d_backward(x.floating(), g.data, x.data, w.data, gx.data, gw.data, gb.data, s);
  }, py::arg("grad"), py::arg("input"), py::arg("weight"), py::arg("grad_input"), py::arg("grad_weight"),
     py::arg("grad_bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
     py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
