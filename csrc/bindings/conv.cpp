#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "conv/conv_cpu.h"
#include "conv/winograd.h"

namespace cvk {
namespace bindings {

void register_conv(pybind11::module_& m) {
  using cvk::conv::ConvShape;
  // shape: (N, Cin, H, W, Cout, KH, KW, sh, sw, pt, pl, dh, dw, groups, Ho, Wo)
  const auto to_shape = cvk::conv::conv_shape_from;
  m.def(
      "conv2d_forward",
      [to_shape](int dtype, uintptr_t x, uintptr_t w, uintptr_t bias, uintptr_t out, const std::vector<int64_t>& sh) {
        const ConvShape s = to_shape(sh);
        pybind11::gil_scoped_release nogil;
        cvk::conv::conv2d_forward(dtype, cptr(x), cptr(w), bias ? cptr(bias) : nullptr, mptr(out), s);
      });
  m.def(
      "conv2d_backward",
      [to_shape](int dtype, uintptr_t gout, uintptr_t x, uintptr_t w, uintptr_t gx, uintptr_t gw, uintptr_t gb,
                 const std::vector<int64_t>& sh) {
        const ConvShape s = to_shape(sh);
        pybind11::gil_scoped_release nogil;
        cvk::conv::conv2d_backward(dtype, cptr(gout), cptr(x), cptr(w), gx ? mptr(gx) : nullptr,
                                   gw ? mptr(gw) : nullptr, gb ? mptr(gb) : nullptr, s);
      });
  m.def("set_conv_winograd_enabled", &cvk::conv::set_winograd_enabled,
        "Whether float32 3x3 stride-1 convolutions may use Winograd F(2x2,3x3) (default on)");
}

}  // namespace bindings
}  // namespace cvk
