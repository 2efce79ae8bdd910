// Entry points of the label counts (csrc/classification/label_counts*.h), shared by _C and
// _C_cuda: the same arguments in both, the trailing `stream` included. Outputs are float64
// buffers provided by the caller; on the GPU the counts are unweighted (sample_weight must be
// None: weight sums stay on the CPU, where their order of addition is fixed).
#pragma once

#include <string>

#include "bindings/device.h"
#include "classification/label_counts.h"
#include "classification/label_counts_cuda.h"

namespace cvk {
namespace bindings {

namespace classification_detail {

// A 0/1 array: uint8 or bool (one byte per entry either way).
inline Buffer& bytes01(Buffer& b) {
  if (b.elem != Elem::U8 && b.elem != Elem::Bool)
    throw py::type_error(std::string(b.name) + " must be uint8 or bool, got " + elem_name(b.elem));
  return b;
}

// Optional (n,) float64 sample weights on the given device.
inline Buffer weights(py::handle w_, int64_t n, int device_type) {
  Buffer w = take_opt(w_, "sample_weight", device_type);
  if (w.data) {
    if (device_type != kCPU) throw py::value_error("sample_weight must be None for CUDA labels (weighted counts run on the CPU)");
    w.dtype(Elem::F64).is_shape({n});
  }
  return w;
}

// Two (n,) int64 label vectors on one device.
inline int64_t label_pair(Buffer& t, Buffer& p) {
  t.dtype(Elem::I64).rank(1);
  p.dtype(Elem::I64).on(t).is_shape(t.shape);
  return t.size(0);
}

inline void check_classes(int64_t K) {
  if (K < 1) throw py::value_error("the number of classes must be at least 1, got " + std::to_string(K));
}

}  // namespace classification_detail

template <class Dev>
void register_label_counts(py::module_& m) {
  using namespace classification_detail;
  constexpr int D = Dev::device_type;

  // Per class c in [lo, lo + K): true positives, support and predicted count (weight sums
  // with sample_weight), into three (K,) float64 buffers.
  m.def("class_sums", [](py::handle t_, py::handle p_, py::handle w_, int64_t lo, int64_t K, py::handle tp_,
                         py::handle ts_, py::handle ps_, uintptr_t stream) {
    Buffer t = take_on(t_, "y_true", D), p = take_on(p_, "y_pred", D);
    const int64_t n = label_pair(t, p);
    Buffer w = weights(w_, n, D);
    check_classes(K);
    Buffer tp = take_on(tp_, "tp", D), ts = take_on(ts_, "true_sum", D), ps = take_on(ps_, "pred_sum", D);
    for (Buffer* b : {&tp, &ts, &ps}) b->dtype(Elem::F64).on(t).writable().is_shape({K});
    typename Dev::Guard guard(t, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      classification::class_sums_cuda(t.cp<int64_t>(), p.cp<int64_t>(), n, lo, K, tp.mp<double>(), ts.mp<double>(),
                                      ps.mp<double>(), reinterpret_cast<void*>(stream));
    else
      classification::class_sums(t.cp<int64_t>(), p.cp<int64_t>(), w.cp<double>(), n, lo, K, tp.mp<double>(),
                                 ts.mp<double>(), ps.mp<double>());
  }, py::arg("y_true"), py::arg("y_pred"), py::arg("sample_weight"), py::arg("lo"), py::arg("K"), py::arg("tp"),
     py::arg("true_sum"), py::arg("pred_sum"), py::arg("stream") = 0);

  // The (K, K) float64 matrix of (y_true - lo, y_pred - lo) pairs (weight sums).
  m.def("confusion_counts", [](py::handle t_, py::handle p_, py::handle w_, int64_t lo, int64_t K, py::handle out_,
                               uintptr_t stream) {
    Buffer t = take_on(t_, "y_true", D), p = take_on(p_, "y_pred", D);
    const int64_t n = label_pair(t, p);
    Buffer w = weights(w_, n, D);
    check_classes(K);
    Buffer out = take_on(out_, "out", D);
    out.dtype(Elem::F64).on(t).writable().is_shape({K, K});
    typename Dev::Guard guard(t, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      classification::confusion_counts_cuda(t.cp<int64_t>(), p.cp<int64_t>(), n, lo, K, out.mp<double>(),
                                            reinterpret_cast<void*>(stream));
    else
      classification::confusion_counts(t.cp<int64_t>(), p.cp<int64_t>(), w.cp<double>(), n, lo, K, out.mp<double>());
  }, py::arg("y_true"), py::arg("y_pred"), py::arg("sample_weight"), py::arg("lo"), py::arg("K"), py::arg("out"),
     py::arg("stream") = 0);

  // Multilabel (n, L) 0/1 matrices: per label (or per sample) true positives, true and
  // predicted counts into three float64 buffers of (L,) (or (n,)).
  m.def("indicator_sums", [](py::handle t_, py::handle p_, py::handle w_, bool samplewise, py::handle tp_,
                             py::handle ts_, py::handle ps_, uintptr_t stream) {
    Buffer t = take_on(t_, "y_true", D), p = take_on(p_, "y_pred", D);
    bytes01(t).rank(2);
    bytes01(p).on(t).is_shape(t.shape);
    const int64_t n = t.size(0), L = t.size(1);
    Buffer w = weights(w_, n, D);
    Buffer tp = take_on(tp_, "tp", D), ts = take_on(ts_, "true_sum", D), ps = take_on(ps_, "pred_sum", D);
    for (Buffer* b : {&tp, &ts, &ps}) b->dtype(Elem::F64).on(t).writable().is_shape({samplewise ? n : L});
    typename Dev::Guard guard(t, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      classification::indicator_sums_cuda(t.cp<uint8_t>(), p.cp<uint8_t>(), n, L, samplewise, tp.mp<double>(),
                                          ts.mp<double>(), ps.mp<double>(), reinterpret_cast<void*>(stream));
    else
      classification::indicator_sums(t.cp<uint8_t>(), p.cp<uint8_t>(), w.cp<double>(), n, L, samplewise,
                                     tp.mp<double>(), ts.mp<double>(), ps.mp<double>());
  }, py::arg("y_true"), py::arg("y_pred"), py::arg("sample_weight"), py::arg("samplewise"), py::arg("tp"),
     py::arg("true_sum"), py::arg("pred_sum"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
