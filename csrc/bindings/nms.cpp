// Entry points of the CPU NMS family (csrc/nms/). boxes (N, 4), scores (N,), idxs (N,) int64,
// keep (N,) int64 receives the kept indices and the count is returned. The CUDA module has
// building blocks of its own instead (cuda_module.cpp), orchestrated by cvkernels/_launch/nms_cuda.py.
#include "bindings/bindings.h"
#include "bindings/device.h"
#include "nms/nms_cpu.h"
#include "nms/nms_math.h"

namespace cvk {
namespace bindings {

namespace {

// boxes (N, 4) and scores (N,) of one float dtype on the CPU; returns N.
int64_t boxes_scores(Buffer& boxes, Buffer& scores) {
  boxes.floating();
  boxes.rank(2).dim(1, 4);
  scores.like(boxes).is_shape({boxes.size(0)});
  return boxes.size(0);
}

}  // namespace

void register_nms(py::module_& m) {
  using namespace cvk::nms;
  m.def("nms", [](py::handle b_, py::handle s_, double thr, py::handle keep_) {
    Buffer b = take_on(b_, "boxes", kCPU), s = take_on(s_, "scores", kCPU), keep = take_on(keep_, "keep", kCPU);
    const int64_t n = boxes_scores(b, s);
    keep.dtype(Elem::I64).writable().is_shape({n});
    py::gil_scoped_release nogil;
    return nms_cpu(b.floating(), b.data, s.data, n, thr, keep.mp<int64_t>());
  }, py::arg("boxes"), py::arg("scores"), py::arg("iou_threshold"), py::arg("keep"));

  m.def("batched_nms", [](py::handle b_, py::handle s_, py::handle i_, double thr, py::handle keep_) {
    Buffer b = take_on(b_, "boxes", kCPU), s = take_on(s_, "scores", kCPU), idxs = take_on(i_, "idxs", kCPU);
    Buffer keep = take_on(keep_, "keep", kCPU);
    const int64_t n = boxes_scores(b, s);
    idxs.dtype(Elem::I64).is_shape({n});
    keep.dtype(Elem::I64).writable().is_shape({n});
    py::gil_scoped_release nogil;
    return batched_nms_cpu(b.floating(), b.data, s.data, idxs.cp<int64_t>(), n, thr, keep.mp<int64_t>());
  }, py::arg("boxes"), py::arg("scores"), py::arg("idxs"), py::arg("iou_threshold"), py::arg("keep"));

  m.def("soft_nms", [](py::handle b_, py::handle s_, py::handle i_, double thr, double sigma, double score_thr,
                       int method, py::handle keep_, py::handle ns_) {
    Buffer b = take_on(b_, "boxes", kCPU), s = take_on(s_, "scores", kCPU), idxs = take_opt(i_, "idxs", kCPU);
    Buffer keep = take_on(keep_, "keep", kCPU), ns = take_on(ns_, "new_scores", kCPU);
    const int64_t n = boxes_scores(b, s);
    if (!i_.is_none()) idxs.dtype(Elem::I64).is_shape({n});
    keep.dtype(Elem::I64).writable().is_shape({n});
    ns.like(b).writable().is_shape({n});
    if (method != kSoftGaussian && method != kSoftLinear) throw py::value_error("method must be one of SOFT_NMS_METHODS' values");
    if (!(sigma > 0)) throw py::value_error("sigma must be > 0");
    py::gil_scoped_release nogil;
    return soft_nms_cpu(b.floating(), b.data, s.data, idxs.cp<int64_t>(), n, thr, sigma, score_thr, method,
                        keep.mp<int64_t>(), ns.data);
  }, py::arg("boxes"), py::arg("scores"), py::arg("idxs"), py::arg("iou_threshold"), py::arg("sigma"),
     py::arg("score_threshold"), py::arg("method"), py::arg("keep"), py::arg("new_scores"));

  // boxes (B, N, 4) or (B, N, C, 4), scores (B, N, C); outputs num_detections (B,) int64,
  // boxes (B, K, 4), scores (B, K), classes (B, K) int64 with K = max_total.
  m.def("multiclass_nms", [](py::handle b_, py::handle s_, double score_thr, double iou_thr, int64_t per,
                             int64_t total, bool agnostic, py::handle num_, py::handle ob_, py::handle os_,
                             py::handle oc_) {
    Buffer b = take_on(b_, "boxes", kCPU), s = take_on(s_, "scores", kCPU), num = take_on(num_, "num_detections", kCPU);
    Buffer ob = take_on(ob_, "out_boxes", kCPU), os = take_on(os_, "out_scores", kCPU), oc = take_on(oc_, "out_classes", kCPU);
    b.floating();
    s.like(b).rank(3);
    const int64_t B = s.size(0), N = s.size(1), C = s.size(2);
    b.rank_in(3, 4).dim(0, B).dim(1, N).dim(-1, 4);
    const bool per_class = b.ndim() == 4;
    if (per_class) b.dim(2, C);
    if (per < 0 || total < 0) throw py::value_error("max_output_per_class and max_total must be >= 0");
    num.dtype(Elem::I64).writable().is_shape({B});
    ob.like(b).writable().is_shape({B, total, 4});
    os.like(b).writable().is_shape({B, total});
    oc.dtype(Elem::I64).writable().is_shape({B, total});
    py::gil_scoped_release nogil;
    multiclass_nms_cpu(b.floating(), b.data, s.data, B, N, C, per_class, score_thr, iou_thr, per, total, agnostic,
                       num.mp<int64_t>(), ob.data, os.data, oc.mp<int64_t>());
  }, py::arg("boxes"), py::arg("scores"), py::arg("score_threshold"), py::arg("iou_threshold"),
     py::arg("max_output_per_class"), py::arg("max_total"), py::arg("class_agnostic"), py::arg("num_detections"),
     py::arg("out_boxes"), py::arg("out_scores"), py::arg("out_classes"));

  py::dict methods;
  methods["gaussian"] = static_cast<int>(kSoftGaussian);
  methods["linear"] = static_cast<int>(kSoftLinear);
  m.attr("SOFT_NMS_METHODS") = methods;
}

}  // namespace bindings
}  // namespace cvk
