// Bindings of the dense decoding kernels (csrc/decode/).
#include <pybind11/pybind11.h>

#include <vector>

#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "bindings/device.h"
#include "decode/heatmap.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {

void register_decode(py::module_& m) {
  // heat (B, C, H, W), wh and reg (B, 2, H, W) (reg: None allowed), float32 or float64 alike;
  // outputs boxes (B, K, 4) of that dtype, scores (B, K), classes and inds (B, K) int64.
  m.def("heatmap_peaks", [](py::handle heat_, py::handle wh_, py::handle reg_, int64_t K, int64_t kernel,
                            py::handle boxes_, py::handle scores_, py::handle classes_, py::handle inds_,
                            uintptr_t stream) {
    Buffer heat = take_on(heat_, "heat", kCPU), wh = take_on(wh_, "wh", kCPU), reg = take_opt(reg_, "reg", kCPU);
    Buffer boxes = take_on(boxes_, "boxes", kCPU), scores = take_on(scores_, "scores", kCPU);
    Buffer classes = take_on(classes_, "classes", kCPU), inds = take_on(inds_, "inds", kCPU);
    Cpu::Guard guard(heat, stream);
    if (heat.elem != Elem::F32 && heat.elem != Elem::F64) throw py::type_error("heat must be float32 or float64");
    heat.rank(4);
    const int64_t B = heat.size(0), C = heat.size(1), H = heat.size(2), W = heat.size(3);
    wh.like(heat).is_shape({B, 2, H, W});
    if (reg.data) reg.like(heat).is_shape({B, 2, H, W});
    if (kernel < 1 || kernel % 2 == 0) throw py::value_error("kernel must be a positive odd number");
    if (K < 0 || K > C * H * W) throw py::value_error("K must be in [0, C * H * W]");
    boxes.like(heat).writable().is_shape({B, K, 4});
    scores.like(heat).writable().is_shape({B, K});
    classes.dtype(Elem::I64).writable().is_shape({B, K});
    inds.dtype(Elem::I64).writable().is_shape({B, K});
    // ys / xs are the boxes' centers: computed into scratch the caller does not see
    std::vector<char> scratch(static_cast<size_t>(2 * B * K) * (heat.elem == Elem::F32 ? 4 : 8));
    bool ok;
    {
      py::gil_scoped_release nogil;
      if (heat.elem == Elem::F32) {
        float* ys = reinterpret_cast<float*>(scratch.data());
        ok = decode::heatmap_peaks(heat.cp<float>(), wh.cp<float>(), reg.cp<float>(), B, C, H, W, K, kernel,
                                   scores.mp<float>(), inds.mp<int64_t>(), classes.mp<int64_t>(), ys, ys + B * K,
                                   boxes.mp<float>());
      } else {
        double* ys = reinterpret_cast<double*>(scratch.data());
        ok = decode::heatmap_peaks(heat.cp<double>(), wh.cp<double>(), reg.cp<double>(), B, C, H, W, K, kernel,
                                   scores.mp<double>(), inds.mp<int64_t>(), classes.mp<int64_t>(), ys, ys + B * K,
                                   boxes.mp<double>());
      }
    }
    if (!ok) throw py::value_error("heat holds NaN");
  }, py::arg("heat"), py::arg("wh"), py::arg("reg"), py::arg("K"), py::arg("kernel"), py::arg("boxes"),
     py::arg("scores"), py::arg("classes"), py::arg("inds"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
