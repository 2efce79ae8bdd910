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

  // boxes (N, 5), scores (N,) of the same float dtype, idxs (N,) int64 or None, keep (N,) int64:
  // the kept indices in its first k entries; returns k.
  m.def("nms_rotated", [](py::handle b_, py::handle s_, py::handle i_, double threshold, py::handle keep_,
                          uintptr_t stream) {
    Buffer b = take_on(b_, "boxes", kCPU), s = take_on(s_, "scores", kCPU), idx = take_opt(i_, "idxs", kCPU);
    Buffer keep = take_on(keep_, "keep", kCPU);
    Cpu::Guard guard(b, stream);
    if (b.elem != Elem::F32 && b.elem != Elem::F64) throw py::type_error("boxes must be float32 or float64");
    b.rank(2).dim(1, 5);
    const int64_t n = b.size(0);
    s.like(b).is_shape({n});
    if (idx.data) idx.dtype(Elem::I64).is_shape({n});
    keep.dtype(Elem::I64).writable().is_shape({n});
    py::gil_scoped_release nogil;
    if (b.elem == Elem::F32)
      return boxes::nms_rotated(b.cp<float>(), s.cp<float>(), idx.cp<int64_t>(), n, threshold, keep.mp<int64_t>());
    return boxes::nms_rotated(b.cp<double>(), s.cp<double>(), idx.cp<int64_t>(), n, threshold, keep.mp<int64_t>());
  }, py::arg("boxes"), py::arg("scores"), py::arg("idxs"), py::arg("iou_threshold"), py::arg("keep"),
     py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
