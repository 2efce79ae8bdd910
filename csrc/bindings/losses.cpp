// Bindings of the loss kernels (csrc/losses/).
#include <pybind11/pybind11.h>

#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "bindings/device.h"
#include "losses/losses_cpu.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {

void register_losses(py::module_& m) {
  // Sigmoid focal loss of inputs and targets (same shape, float32 or float64): the elementwise
  // loss into loss and d loss / d input into grad (each optional: None), and the sum of the
  // losses, returned as a Python float.
  m.def("sigmoid_focal_loss", [](py::handle x_, py::handle t_, double alpha, double gamma, py::handle loss_,
                                 py::handle grad_, uintptr_t stream) {
    Buffer x = take_on(x_, "inputs", kCPU), t = take_on(t_, "targets", kCPU);
    Buffer loss = take_opt(loss_, "loss", kCPU), grad = take_opt(grad_, "grad", kCPU);
    Cpu::Guard guard(x, stream);
    if (x.elem != Elem::F32 && x.elem != Elem::F64) throw py::type_error("inputs must be float32 or float64");
    t.like(x).is_shape(x.shape);
    if (loss.data) loss.like(x).writable().is_shape(x.shape);
    if (grad.data) grad.like(x).writable().is_shape(x.shape);
    const int64_t n = x.numel();
    py::gil_scoped_release nogil;
    if (x.elem == Elem::F32)
      return losses::sigmoid_focal_loss(x.cp<float>(), t.cp<float>(), n, alpha, gamma, loss.mp<float>(),
                                        grad.mp<float>());
    return losses::sigmoid_focal_loss(x.cp<double>(), t.cp<double>(), n, alpha, gamma, loss.mp<double>(),
                                      grad.mp<double>());
  }, py::arg("inputs"), py::arg("targets"), py::arg("alpha"), py::arg("gamma"), py::arg("loss"), py::arg("grad"),
     py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
