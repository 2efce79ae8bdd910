#include "bindings/bindings.h"
#include <pybind11/stl.h>
#include "roi/roi_cpu.h"

namespace cvk {
namespace bindings {

namespace {
// (N, C, H, W, K, PH, PW) as a tuple from Python.
roi::Shape shape_of(const std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>& t) {
  return roi::Shape{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t),
                    std::get<4>(t), std::get<5>(t), std::get<6>(t)};
}
using ShapeT = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
int32_t* i32(uintptr_t p) { return reinterpret_cast<int32_t*>(p); }
}  // namespace

void register_roi(pybind11::module_& m) {
  using namespace cvk::roi;
  m.def(
      "roi_align_forward",
      [](int dtype, uintptr_t input, bool channels_last, uintptr_t rois, ShapeT s, double scale,
         int64_t sr, bool aligned, uintptr_t out) {
        roi_align_forward_cpu(dtype, cptr(input), channels_last, cptr(rois), shape_of(s), scale,
                              sr, aligned, mptr(out));
      },
      nogil());
  m.def(
      "roi_align_backward",
      [](int dtype, uintptr_t grad, uintptr_t rois, ShapeT s, double scale, int64_t sr,
         bool aligned, bool channels_last, uintptr_t grad_input) {
        roi_align_backward_cpu(dtype, cptr(grad), cptr(rois), shape_of(s), scale, sr, aligned,
                               channels_last, mptr(grad_input));
      },
      nogil());
  m.def(
      "roi_pool_forward",
      [](int dtype, uintptr_t input, bool channels_last, uintptr_t rois, ShapeT s, double scale,
         uintptr_t out, uintptr_t argmax) {
        roi_pool_forward_cpu(dtype, cptr(input), channels_last, cptr(rois), shape_of(s), scale,
                             mptr(out), i32(argmax));
      },
      nogil());
  m.def(
      "roi_pool_backward",
      [](int dtype, uintptr_t grad, uintptr_t argmax, uintptr_t rois, ShapeT s,
         bool channels_last, uintptr_t grad_input) {
        roi_pool_backward_cpu(dtype, cptr(grad), i32(argmax), cptr(rois), shape_of(s),
                              channels_last, mptr(grad_input));
      },
      nogil());
}

}  // namespace bindings
}  // namespace cvk
