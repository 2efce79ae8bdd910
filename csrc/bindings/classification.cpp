// Bindings of the classification metric kernels (csrc/classification/): label ranges, ranking
// curves, and the label counts (bindings/classification.h, shared with _C_cuda). Every output
// buffer is provided by the caller.
#include <pybind11/pybind11.h>

#include <string>

#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "bindings/classification.h"
#include "bindings/device.h"
#include "classification/ranking.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {
namespace {

using classification_detail::bytes01;

// Optional (n,) float64 sample weights.
Buffer weights(py::handle w_, int64_t n) { return classification_detail::weights(w_, n, kCPU); }

}  // namespace

void register_classification(py::module_& m) {
  // (min, max) of a non-empty int64 vector.
  m.def("label_range", [](py::handle x_) {
    Buffer x = take_on(x_, "labels", kCPU);
    x.dtype(Elem::I64).rank(1);
    if (x.size(0) < 1) throw py::value_error("labels must not be empty");
    int64_t lo, hi;
    {
      py::gil_scoped_release nogil;
      classification::label_range(x.cp<int64_t>(), x.size(0), &lo, &hi);
    }
    return py::make_tuple(lo, hi);
  }, py::arg("labels"));

  register_label_counts<Cpu>(m);

  // The curve of one binary problem: scores (n,) float32/float64, positive flags (n,) 0/1,
  // weights or None; writes the distinct thresholds (descending, the scores' dtype) and the
  // cumulative positive / negative totals at each (float64) into (n,) buffers and returns
  // how many were written.
  m.def("binary_curve", [](py::handle s_, py::handle pos_, py::handle w_, py::handle th_, py::handle tps_,
                           py::handle fps_) {
    Buffer s = take_on(s_, "y_score", kCPU), pos = take_on(pos_, "y_true", kCPU);
    const int dt = s.floating();
    s.rank(1);
    const int64_t n = s.size(0);
    bytes01(pos).is_shape({n});
    Buffer w = weights(w_, n);
    Buffer th = take_on(th_, "thresholds", kCPU), tps = take_on(tps_, "tps", kCPU), fps = take_on(fps_, "fps", kCPU);
    th.like(s).writable().is_shape({n});
    tps.dtype(Elem::F64).writable().is_shape({n});
    fps.dtype(Elem::F64).writable().is_shape({n});
    int64_t k;
    {
      py::gil_scoped_release nogil;
      k = dispatch_float(dt, [&](auto f) {
        using F = decltype(f);
        return classification::binary_curve(s.cp<F>(), pos.cp<uint8_t>(), w.cp<double>(), n, th.mp<F>(),
                                            tps.mp<double>(), fps.mp<double>());
      });
    }
    if (k < 0) throw py::value_error("y_score must be finite: it contains NaN or infinity");
    return k;
  }, py::arg("y_score"), py::arg("y_true"), py::arg("sample_weight"), py::arg("thresholds"), py::arg("tps"),
     py::arg("fps"));

  // Top-k hits: scores (N, C) float32/float64, labels (N,) int64 class positions in [0, C),
  // hit (N,) uint8 written.
  m.def("topk_hits", [](py::handle s_, py::handle lab_, int64_t k, py::handle hit_) {
    Buffer s = take_on(s_, "y_score", kCPU), lab = take_on(lab_, "labels", kCPU), hit = take_on(hit_, "hit", kCPU);
    const int dt = s.floating();
    s.rank(2);
    const int64_t N = s.size(0), C = s.size(1);
    lab.dtype(Elem::I64).is_shape({N});
    hit.dtype(Elem::U8).writable().is_shape({N});
    const int64_t* l = lab.cp<int64_t>();
    for (int64_t i = 0; i < N; ++i)
      if (l[i] < 0 || l[i] >= C) throw py::value_error("labels must lie in [0, " + std::to_string(C) + ")");
    py::gil_scoped_release nogil;
    dispatch_float(dt, [&](auto f) {
      using F = decltype(f);
      classification::topk_hits(s.cp<F>(), l, N, C, k, hit.mp<uint8_t>());
    });
  }, py::arg("y_score"), py::arg("labels"), py::arg("k"), py::arg("hit"));

  // Summaries of the C binary problems of an (N, C) score matrix: column c's positives are
  // rows with labels == c (labels (N,) int64) or indicator[:, c] != 0 (indicator (N, C) 0/1);
  // exactly one of the two is given. Writes (C,) float64: npos, nneg, auc, pauc (when
  // 0 < max_fpr < 1; may be None), ap.
  m.def("ranking_columns", [](py::handle s_, py::handle lab_, py::handle ind_, py::handle w_, double max_fpr,
                              py::handle npos_, py::handle nneg_, py::handle auc_, py::handle pauc_, py::handle ap_) {
    Buffer s = take_on(s_, "y_score", kCPU);
    const int dt = s.floating();
    s.rank(2);
    const int64_t N = s.size(0), C = s.size(1);
    Buffer lab = take_opt(lab_, "labels", kCPU), ind = take_opt(ind_, "indicator", kCPU);
    if ((lab.data == nullptr) == (ind.data == nullptr) && N > 0)
      throw py::value_error("give exactly one of labels and indicator");
    if (lab.data) lab.dtype(Elem::I64).is_shape({N});
    if (ind.data) bytes01(ind).is_shape({N, C});
    Buffer w = weights(w_, N);
    Buffer npos = take_on(npos_, "npos", kCPU), nneg = take_on(nneg_, "nneg", kCPU);
    Buffer auc = take_on(auc_, "auc", kCPU), ap = take_on(ap_, "ap", kCPU), pauc = take_opt(pauc_, "pauc", kCPU);
    for (Buffer* b : {&npos, &nneg, &auc, &ap}) b->dtype(Elem::F64).writable().is_shape({C});
    if (pauc.data) pauc.dtype(Elem::F64).writable().is_shape({C});
    int status;
    {
      py::gil_scoped_release nogil;
      status = dispatch_float(dt, [&](auto f) {
        using F = decltype(f);
        return classification::ranking_columns(s.cp<F>(), N, C, lab.cp<int64_t>(), ind.cp<uint8_t>(), w.cp<double>(),
                                               max_fpr, npos.mp<double>(), nneg.mp<double>(), auc.mp<double>(),
                                               pauc.mp<double>(), ap.mp<double>());
      });
    }
    if (status == classification::kRankingNonFinite)
      throw py::value_error("y_score must be finite: it contains NaN or infinity");
  }, py::arg("y_score"), py::arg("labels"), py::arg("indicator"), py::arg("sample_weight"), py::arg("max_fpr"),
     py::arg("npos"), py::arg("nneg"), py::arg("auc"), py::arg("pauc"), py::arg("ap"));
}

}  // namespace bindings
}  // namespace cvk
