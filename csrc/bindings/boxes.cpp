#include "bindings/bindings.h"
#include "boxes/boxes_cpu.h"

namespace cvk {
namespace bindings {

void register_boxes(pybind11::module_& m) {
  using namespace cvk::boxes;
  m.def(
      "box_pairwise",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t out, int64_t B, int64_t N,
         int64_t M, double eps) { pairwise_cpu(kind, dtype, cptr(a), cptr(b), mptr(out), B, N, M, eps); },
      nogil());
  m.def(
      "box_pairwise_backward",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t grad, uintptr_t ga,
         uintptr_t gb, int64_t B, int64_t N, int64_t M, double eps) {
        pairwise_backward_cpu(kind, dtype, cptr(a), cptr(b), cptr(grad), mptr(ga), mptr(gb), B,
                              N, M, eps);
      },
      nogil());
  m.def(
      "box_loss",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t out, int64_t n, double eps) {
        loss_cpu(kind, dtype, cptr(a), cptr(b), mptr(out), n, eps);
      },
      nogil());
  m.def(
      "box_loss_backward",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t grad, uintptr_t ga,
         uintptr_t gb, int64_t n, double eps) {
        loss_backward_cpu(kind, dtype, cptr(a), cptr(b), cptr(grad), mptr(ga), mptr(gb), n, eps);
      },
      nogil());
  m.def(
      "box_area",
      [](int dtype, uintptr_t boxes, uintptr_t out, int64_t n) {
        area_cpu(dtype, cptr(boxes), mptr(out), n);
      },
      nogil());
  m.def(
      "box_convert",
      [](int dtype, uintptr_t in, uintptr_t out, int64_t n, int from_fmt, int to_fmt) {
        convert_cpu(dtype, cptr(in), mptr(out), n, from_fmt, to_fmt);
      },
      nogil());
}

}  // namespace bindings
}  // namespace cvk
