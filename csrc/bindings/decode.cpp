// Bindings of the dense decoding kernels (csrc/decode/).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <vector>

#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "bindings/device.h"
#include "decode/box_coding_cpu.h"
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

  // BoxCoder decode / encode of n boxes: deltas or boxes (n, 4), anchors / references (n, 4),
  // out (n, 4), all float32 or all float64; weights: 4 numbers.
  m.def("decode_boxes", [](py::handle d_, py::handle a_, std::vector<double> weights, double clip, py::handle out_,
                           uintptr_t stream) {
    Buffer d = take_on(d_, "rel_codes", kCPU), a = take_on(a_, "boxes", kCPU), out = take_on(out_, "out", kCPU);
    Cpu::Guard guard(d, stream);
    if (d.elem != Elem::F32 && d.elem != Elem::F64) throw py::type_error("rel_codes must be float32 or float64");
    if (weights.size() != 4) throw py::value_error("weights must be 4 numbers");
    d.rank(2).dim(1, 4);
    a.like(d).is_shape(d.shape);
    out.like(d).writable().is_shape(d.shape);
    const int64_t n = d.size(0);
    py::gil_scoped_release nogil;
    if (d.elem == Elem::F32) {
      const float w[4] = {float(weights[0]), float(weights[1]), float(weights[2]), float(weights[3])};
      decode::decode_boxes(d.cp<float>(), a.cp<float>(), n, w, static_cast<float>(clip), out.mp<float>());
    } else {
      decode::decode_boxes(d.cp<double>(), a.cp<double>(), n, weights.data(), clip, out.mp<double>());
    }
  }, py::arg("rel_codes"), py::arg("boxes"), py::arg("weights"), py::arg("clip"), py::arg("out"),
     py::arg("stream") = 0);
  m.def("encode_boxes", [](py::handle b_, py::handle r_, std::vector<double> weights, py::handle out_,
                           uintptr_t stream) {
    Buffer b = take_on(b_, "reference_boxes", kCPU), r = take_on(r_, "proposals", kCPU);
    Buffer out = take_on(out_, "out", kCPU);
    Cpu::Guard guard(b, stream);
    if (b.elem != Elem::F32 && b.elem != Elem::F64) throw py::type_error("reference_boxes must be float32 or float64");
    if (weights.size() != 4) throw py::value_error("weights must be 4 numbers");
    b.rank(2).dim(1, 4);
    r.like(b).is_shape(b.shape);
    out.like(b).writable().is_shape(b.shape);
    const int64_t n = b.size(0);
    py::gil_scoped_release nogil;
    if (b.elem == Elem::F32) {
      const float w[4] = {float(weights[0]), float(weights[1]), float(weights[2]), float(weights[3])};
      decode::encode_boxes(b.cp<float>(), r.cp<float>(), n, w, out.mp<float>());
    } else {
      decode::encode_boxes(b.cp<double>(), r.cp<double>(), n, weights.data(), out.mp<double>());
    }
  }, py::arg("reference_boxes"), py::arg("proposals"), py::arg("weights"), py::arg("out"), py::arg("stream") = 0);
  // One level of RetinaNet post-processing: logits (N, C), deltas and anchors (N, 4); outputs of
  // topk rows (boxes (topk, 4), scores, labels, anchor_idx), of which the first k (returned) are set.
  m.def("decode_topk", [](py::handle l_, py::handle d_, py::handle a_, double score_thresh, int64_t topk,
                          std::vector<double> weights, double clip, double img_h, double img_w, py::handle boxes_,
                          py::handle scores_, py::handle labels_, py::handle idx_, uintptr_t stream) {
    Buffer l = take_on(l_, "logits", kCPU), d = take_on(d_, "box_regression", kCPU), a = take_on(a_, "anchors", kCPU);
    Buffer boxes = take_on(boxes_, "boxes", kCPU), scores = take_on(scores_, "scores", kCPU);
    Buffer labels = take_on(labels_, "labels", kCPU), idx = take_on(idx_, "anchor_idx", kCPU);
    Cpu::Guard guard(l, stream);
    if (l.elem != Elem::F32 && l.elem != Elem::F64) throw py::type_error("logits must be float32 or float64");
    if (weights.size() != 4) throw py::value_error("weights must be 4 numbers");
    if (topk < 0) throw py::value_error("topk must be >= 0");
    l.rank(2);
    const int64_t N = l.size(0), C = l.size(1);
    d.like(l).is_shape({N, 4});
    a.like(l).is_shape({N, 4});
    boxes.like(l).writable().is_shape({topk, 4});
    scores.like(l).writable().is_shape({topk});
    labels.dtype(Elem::I64).writable().is_shape({topk});
    idx.dtype(Elem::I64).writable().is_shape({topk});
    py::gil_scoped_release nogil;
    if (l.elem == Elem::F32) {
      const float w[4] = {float(weights[0]), float(weights[1]), float(weights[2]), float(weights[3])};
      return decode::decode_topk(l.cp<float>(), d.cp<float>(), a.cp<float>(), N, C, score_thresh, topk, w,
                                 static_cast<float>(clip), static_cast<float>(img_h), static_cast<float>(img_w),
                                 boxes.mp<float>(), scores.mp<float>(), labels.mp<int64_t>(), idx.mp<int64_t>());
    }
    return decode::decode_topk(l.cp<double>(), d.cp<double>(), a.cp<double>(), N, C, score_thresh, topk,
                               weights.data(), clip, img_h, img_w, boxes.mp<double>(), scores.mp<double>(),
                               labels.mp<int64_t>(), idx.mp<int64_t>());
  }, py::arg("logits"), py::arg("box_regression"), py::arg("anchors"), py::arg("score_thresh"), py::arg("topk"),
     py::arg("weights"), py::arg("clip"), py::arg("img_h"), py::arg("img_w"), py::arg("boxes"), py::arg("scores"),
     py::arg("labels"), py::arg("anchor_idx"), py::arg("stream") = 0);
  // One YOLO level of one image: pred (A, H, W, 5 + C), anchors (A, 2) in pixels; outputs of
  // topk rows (boxes (topk, 4), scores, labels, index), of which the first k (returned) are set.
  m.def("decode_yolo", [](py::handle p_, py::handle a_, double stride, bool v5, double conf_thres, int64_t topk,
                          py::handle boxes_, py::handle scores_, py::handle labels_, py::handle idx_, uintptr_t stream) {
    Buffer p = take_on(p_, "pred", kCPU), a = take_on(a_, "anchors", kCPU);
    Buffer boxes = take_on(boxes_, "boxes", kCPU), scores = take_on(scores_, "scores", kCPU);
    Buffer labels = take_on(labels_, "labels", kCPU), idx = take_on(idx_, "index", kCPU);
    Cpu::Guard guard(p, stream);
    const int dt = p.floating();
    if (topk < 0) throw py::value_error("topk must be >= 0");
    p.rank(4);
    const int64_t A = p.size(0), H = p.size(1), W = p.size(2), C = p.size(3) - 5;
    if (C < 1) throw py::value_error("pred's last dimension must be 5 + the number of classes (at least 6)");
    a.like(p).is_shape({A, 2});
    boxes.like(p).writable().is_shape({topk, 4});
    scores.like(p).writable().is_shape({topk});
    labels.dtype(Elem::I64).writable().is_shape({topk});
    idx.dtype(Elem::I64).writable().is_shape({topk});
    py::gil_scoped_release nogil;
    return dispatch_float(dt, [&](auto f) {
      using T = decltype(f);
      return decode::decode_yolo(p.cp<T>(), a.cp<T>(), A, H, W, C, static_cast<T>(stride), v5, conf_thres, topk,
                                 boxes.mp<T>(), scores.mp<T>(), labels.mp<int64_t>(), idx.mp<int64_t>());
    });
  }, py::arg("pred"), py::arg("anchors"), py::arg("stride"), py::arg("v5"), py::arg("conf_thres"), py::arg("topk"),
     py::arg("boxes"), py::arg("scores"), py::arg("labels"), py::arg("index"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
