#include "bindings/bindings.h"
#include "bindings/device.h"
#include "boxes/box_math.h"
#include "conv/winograd.h"
#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "common/workspace.h"

namespace cvk {
namespace bindings {

void register_common(pybind11::module_& m) {
  m.def("set_num_threads", &cvk::set_num_threads);
  m.def("get_num_threads", &cvk::get_num_threads);
  m.def("max_threads", &cvk::max_threads, "The largest thread count set_num_threads accepts (8 per CPU, 64 to 1024)");
  m.def("threads_backend", &cvk::threads_backend,
        "Where parallel regions run: 'openmp' (the team of a libgomp already loaded, as torch's) or 'pool'");
  m.def("cpu_has_avx2", &cvk::cpu_has_avx2);
  m.def("set_simd_enabled", &cvk::set_simd_enabled);
  m.def("set_avx512_enabled", &cvk::set_avx512_enabled);
  m.def("release_workspace", &cvk::release_workspace,
        "Free the cached scratch block some kernels reuse across calls");
  // avx512: the AVX-512 units (conv GEMM) run too; every other AVX2 kernel runs as with avx2.
  m.def("set_conv_winograd_enabled", &cvk::conv::set_winograd_enabled,
        "Whether float32 3x3 stride-1 convolutions may use Winograd F(2x2,3x3) (default on)");
  m.def("simd_level", [] { return cvk::use_avx512() ? "avx512" : cvk::use_avx2() ? "avx2" : "baseline"; });
}

void register_constants(py::module_& m) {
  using cvk::boxes::BoxFmt;
  using cvk::boxes::PairKind;
  py::dict kinds, fmts;
  kinds["iou"] = static_cast<int>(PairKind::IoU);
  kinds["giou"] = static_cast<int>(PairKind::GIoU);
  kinds["diou"] = static_cast<int>(PairKind::DIoU);
  kinds["ciou"] = static_cast<int>(PairKind::CIoU);
  fmts["xyxy"] = static_cast<int>(BoxFmt::XYXY);
  fmts["xywh"] = static_cast<int>(BoxFmt::XYWH);
  fmts["cxcywh"] = static_cast<int>(BoxFmt::CXCYWH);
  m.attr("BOX_KINDS") = kinds;
  m.attr("BOX_FORMATS") = fmts;
}

}  // namespace bindings
}  // namespace cvk
