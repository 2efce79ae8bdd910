// Entry points of RoIAlign / RoIPool (csrc/roi/), shared by _C and _C_cuda. The feature map
// is (N, C, H, W), or with channels_last=True its (N, H, W, C) memory; rois (K, 5) rows of
// (batch_index, x1, y1, x2, y2); outputs (K, C, PH, PW); RoIPool's argmax int32 of that shape.
#pragma once

#include <cmath>

#include "bindings/device.h"
#include "roi/roi_cpu.h"
#include "roi/roi_cuda.h"

namespace cvk {
namespace bindings {

namespace roi_detail {

// (N, C, H, W) of a feature map buffer in either layout.
inline void nchw(const Buffer& x, bool channels_last, int64_t& N, int64_t& C, int64_t& H, int64_t& W) {
  N = x.size(0);
  C = channels_last ? x.size(3) : x.size(1);
  H = channels_last ? x.size(1) : x.size(2);
  W = channels_last ? x.size(2) : x.size(3);
}

// On the CPU the batch index of every RoI is checked here, so that no call of _C can index
// outside the feature map; the launcher checks it only for CUDA tensors (whose memory C++
// does not read) and where no kernel runs.
template <class Dev>
void check_batch_index(const Buffer& rois, int64_t N) {
  if constexpr (!Dev::cuda) {
    for (int64_t k = 0; k < rois.size(0); ++k) {
      const double b = rois.elem == Elem::F32 ? rois.cp<float>()[k * 5] : rois.cp<double>()[k * 5];
      if (!(b >= 0 && b < static_cast<double>(N)))
        throw py::value_error("boxes: every batch index (rois[:, 0]) must be an integer in [0, " + std::to_string(N) +
                              ") (the batch size of input)");
    }
  }
}

constexpr int64_t kMaxSamplingRatio = int64_t(1) << 16;  // beyond, grid_h * grid_w overflows

inline void check_sampling_ratio(int64_t r) {
  if (r > kMaxSamplingRatio) throw py::value_error("sampling_ratio must be <= 65536, got " + std::to_string(r));
}

inline Buffer feature_map(py::handle h, const char* name, int D) {
  Buffer x = take_on(h, name, D);
  x.floating();
  x.rank(4);
  return x;
}

// The Shape of a forward call: map x, rois (K, 5), output (K, C, PH, PW).
inline cvk::roi::Shape forward_shape(const Buffer& x, bool channels_last, Buffer& rois, Buffer& out) {
  int64_t N, C, H, W;
  nchw(x, channels_last, N, C, H, W);
  rois.like(x).on(x).rank(2).dim(1, 5);
  out.like(x).on(x).writable().rank(4).dim(0, rois.size(0)).dim(1, C);
  return cvk::roi::Shape{N, C, H, W, rois.size(0), out.size(2), out.size(3)};
}

// The Shape of a backward call: grad (K, C, PH, PW), rois (K, 5), the map's gradient gi.
inline cvk::roi::Shape backward_shape(Buffer& g, Buffer& rois, Buffer& gi, bool channels_last) {
  int64_t N, C, H, W;
  nchw(gi, channels_last, N, C, H, W);
  g.like(gi).on(gi).rank(4).dim(1, C);
  rois.like(gi).on(gi).rank(2).dim(1, 5).dim(0, g.size(0));
  gi.writable();
  return cvk::roi::Shape{N, C, H, W, rois.size(0), g.size(2), g.size(3)};
}

}  // namespace roi_detail

template <class Dev>
void register_roi(py::module_& m) {
  using namespace cvk::roi;
  using namespace roi_detail;
  constexpr int D = Dev::device_type;
  // out_rows (optional, int64 (K)): RoI k fills row out_rows[k] of out (R, C, PH, PW), for the
  // levels of a multi-scale pooling; the rows are checked on the CPU (the launcher checks them
  // for CUDA tensors).
  m.def("roi_align_forward", [](py::handle x_, bool channels_last, py::handle rois_, py::handle out_, double scale,
                                int64_t sampling_ratio, bool aligned, uintptr_t stream, py::handle rows_) {
    Buffer x = feature_map(x_, "input", D), rois = take_on(rois_, "rois", D), out = take_on(out_, "out", D);
    check_sampling_ratio(sampling_ratio);
    const int64_t* out_rows = nullptr;
    Shape s;
    if (rows_.is_none()) {
      s = forward_shape(x, channels_last, rois, out);
    } else {
      Buffer rows = take_on(rows_, "out_rows", D);
      int64_t N, C, H, W;
      nchw(x, channels_last, N, C, H, W);
      rois.like(x).on(x).rank(2).dim(1, 5);
      out.like(x).on(x).writable().rank(4).dim(1, C);
      rows.on(x).dtype(Elem::I64).rank(1).dim(0, rois.size(0));
      s = Shape{N, C, H, W, rois.size(0), out.size(2), out.size(3)};
      if constexpr (!Dev::cuda) {
        for (int64_t k = 0; k < s.K; ++k)
          if (rows.cp<int64_t>()[k] < 0 || rows.cp<int64_t>()[k] >= out.size(0))
            throw py::value_error("out_rows must lie in [0, " + std::to_string(out.size(0)) + ")");
      }
      out_rows = rows.cp<int64_t>();
    }
    check_batch_index<Dev>(rois, s.N);
    if (s.K * s.C * s.PH * s.PW == 0) return;
    if (s.H == 0 || s.W == 0) throw py::value_error("input must have H, W >= 1 for a non-empty output");
    typename Dev::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(roi_align_forward, x.floating(), x.data, channels_last, rois.data, s, scale, sampling_ratio, aligned,
            out_rows, out.data);
  }, py::arg("input"), py::arg("channels_last"), py::arg("rois"), py::arg("out"), py::arg("spatial_scale"),
     py::arg("sampling_ratio"), py::arg("aligned"), py::arg("stream") = 0, py::arg("out_rows") = py::none());

  m.def("roi_align_backward", [](py::handle g_, py::handle rois_, py::handle gi_, bool channels_last, double scale,
                                 int64_t sampling_ratio, bool aligned, bool deterministic, uintptr_t stream) {
    Buffer g = take_on(g_, "grad", D), rois = take_on(rois_, "rois", D), gi = feature_map(gi_, "grad_input", D);
    check_sampling_ratio(sampling_ratio);
    const Shape s = backward_shape(g, rois, gi, channels_last);
    check_batch_index<Dev>(rois, s.N);
    typename Dev::Guard guard(gi, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      roi_align_backward_cuda(gi.floating(), g.data, rois.data, s, scale, sampling_ratio, aligned, channels_last,
                              deterministic, gi.data, reinterpret_cast<void*>(stream));
    else
      roi_align_backward_cpu(gi.floating(), g.data, rois.data, s, scale, sampling_ratio, aligned, channels_last, gi.data);
  }, py::arg("grad"), py::arg("rois"), py::arg("grad_input"), py::arg("channels_last"), py::arg("spatial_scale"),
     py::arg("sampling_ratio"), py::arg("aligned"), py::arg("deterministic"), py::arg("stream") = 0);

  m.def("roi_pool_forward", [](py::handle x_, bool channels_last, py::handle rois_, py::handle out_,
                               py::handle argmax_, double scale, uintptr_t stream) {
    Buffer x = feature_map(x_, "input", D), rois = take_on(rois_, "rois", D), out = take_on(out_, "out", D);
    Buffer arg = take_on(argmax_, "argmax", D);
    const Shape s = forward_shape(x, channels_last, rois, out);
    arg.dtype(Elem::I32).on(x).writable().is_shape(out.shape);
    check_batch_index<Dev>(rois, s.N);
    if (out.numel() == 0) return;
    if (s.H == 0 || s.W == 0) throw py::value_error("input must have H, W >= 1 for a non-empty output");
    typename Dev::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(roi_pool_forward, x.floating(), x.data, channels_last, rois.data, s, scale, out.data, arg.mp<int32_t>());
  }, py::arg("input"), py::arg("channels_last"), py::arg("rois"), py::arg("out"), py::arg("argmax"),
     py::arg("spatial_scale"), py::arg("stream") = 0);

  m.def("roi_pool_backward", [](py::handle g_, py::handle argmax_, py::handle rois_, py::handle gi_,
                                bool channels_last, bool deterministic, uintptr_t stream) {
    Buffer g = take_on(g_, "grad", D), arg = take_on(argmax_, "argmax", D), rois = take_on(rois_, "rois", D);
    Buffer gi = feature_map(gi_, "grad_input", D);
    const Shape s = backward_shape(g, rois, gi, channels_last);
    arg.dtype(Elem::I32).on(gi).is_shape(g.shape);
    check_batch_index<Dev>(rois, s.N);
    typename Dev::Guard guard(gi, stream);
    py::gil_scoped_release nogil;
    if constexpr (Dev::cuda)
      roi_pool_backward_cuda(gi.floating(), g.data, arg.cp<int32_t>(), rois.data, s, channels_last, deterministic,
                             gi.data, reinterpret_cast<void*>(stream));
    else
      roi_pool_backward_cpu(gi.floating(), g.data, arg.cp<int32_t>(), rois.data, s, channels_last, gi.data);
  }, py::arg("grad"), py::arg("argmax"), py::arg("rois"), py::arg("grad_input"), py::arg("channels_last"),
     py::arg("deterministic"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
