// Bindings of the loss kernels (csrc/losses/).
#include <pybind11/pybind11.h>

#include <string>

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

  // Softmax focal loss: input (N, C, S) float32 / float64, target (N, S) int64 labels in [0, C)
  // or ignore_index, weight (C,) or None; loss (N, S) and grad (N, C, S) optional. Returns
  // (sum of the losses, sum of the kept pixels' weights).
  m.def("softmax_focal_loss", [](py::handle x_, py::handle t_, py::handle w_, double gamma, int64_t ignore_index,
                                 py::handle loss_, py::handle grad_, uintptr_t stream) {
    Buffer x = take_on(x_, "input", kCPU), t = take_on(t_, "target", kCPU), w = take_opt(w_, "weight", kCPU);
    Buffer loss = take_opt(loss_, "loss", kCPU), grad = take_opt(grad_, "grad", kCPU);
    Cpu::Guard guard(x, stream);
    if (x.elem != Elem::F32 && x.elem != Elem::F64) throw py::type_error("input must be float32 or float64");
    x.rank(3);
    const int64_t N = x.size(0), C = x.size(1), S = x.size(2);
    if (C < 1) throw py::value_error("input needs at least one class");
    t.dtype(Elem::I64).is_shape({N, S});
    if (w.data) w.like(x).is_shape({C});
    if (loss.data) loss.like(x).writable().is_shape({N, S});
    if (grad.data) grad.like(x).writable().is_shape({N, C, S});
    const int64_t* tp = t.cp<int64_t>();
    for (int64_t i = 0; i < N * S; ++i)
      if (tp[i] != ignore_index && (tp[i] < 0 || tp[i] >= C))
        throw py::value_error("target holds label " + std::to_string(tp[i]) + ", outside [0, " + std::to_string(C) +
                              ") and not ignore_index");
    double wsum = 0, sum;
    {
      py::gil_scoped_release nogil;
      if (x.elem == Elem::F32)
        sum = losses::softmax_focal_loss(x.cp<float>(), tp, w.cp<float>(), N, C, S, gamma, ignore_index,
                                         loss.mp<float>(), grad.mp<float>(), &wsum);
      else
        sum = losses::softmax_focal_loss(x.cp<double>(), tp, w.cp<double>(), N, C, S, gamma, ignore_index,
                                         loss.mp<double>(), grad.mp<double>(), &wsum);
    }
    return py::make_tuple(sum, wsum);
  }, py::arg("input"), py::arg("target"), py::arg("weight"), py::arg("gamma"), py::arg("ignore_index"),
     py::arg("loss"), py::arg("grad"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
