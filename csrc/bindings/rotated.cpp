// Bindings of the rotated-box kernels (csrc/boxes/rotated*). CPU only for now.
#include <pybind11/pybind11.h>

#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "bindings/device.h"
#include "boxes/rotated_cpu.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {

void register_rotated(py::module_& m) {
  // boxes1 (N, 5), boxes2 (M, 5) (cx, cy, w, h, degrees), out (N, M), all float32 or all float64.
  m.def("box_iou_rotated", [](py::handle a_, py::handle b_, py::handle out_, uintptr_t stream) {
    Buffer a = take_on(a_, "boxes1", kCPU), b = take_on(b_, "boxes2", kCPU), out = take_on(out_, "out", kCPU);
    Cpu::Guard guard(a, stream);
    if (a.elem != Elem::F32 && a.elem != Elem::F64) throw py::type_error("boxes1 must be float32 or float64");
    a.rank(2).dim(1, 5);
    b.like(a).rank(2).dim(1, 5);
    const int64_t n = a.size(0), k = b.size(0);
    out.like(a).writable().is_shape({n, k});
    py::gil_scoped_release nogil;
    if (a.elem == Elem::F32)
      boxes::box_iou_rotated(a.cp<float>(), n, b.cp<float>(), k, out.mp<float>());
    else
      boxes::box_iou_rotated(a.cp<double>(), n, b.cp<double>(), k, out.mp<double>());
  }, py::arg("boxes1"), py::arg("boxes2"), py::arg("out"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
