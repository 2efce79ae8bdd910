// Entry points of the box ops (csrc/boxes/), shared by _C and _C_cuda. Shapes:
// box_pairwise: a (N, 4) or (B, N, 4), b (M, 4) or (B, M, 4) -> out (N, M) or (B, N, M);
// box_loss: a, b, out of equal leading shape (..., 4) / (...); box_area (..., 4) -> (...);
// box_convert (..., 4) -> (..., 4). Float32 or float64, all of one dtype and device.
#pragma once

#include "bindings/device.h"
#include "boxes/boxes_cpu.h"
#include "boxes/boxes_cuda.h"

namespace cvk {
namespace bindings {

namespace boxes_detail {

inline void check_kind(int kind) {
  if (kind < 0 || kind > 3) throw py::value_error("kind must be one of BOX_KINDS' values, got " + std::to_string(kind));
}

// (B, N, M) of a pairwise call; checks a, b and (if given) the (B, N, M)-shaped tensor t.
inline void pair_dims(Buffer& a, Buffer& b, int64_t& B, int64_t& N, int64_t& M) {
  a.floating();
  b.like(a).on(a);
  a.rank_in(2, 3).dim(-1, 4);
  b.rank(a.ndim()).dim(-1, 4);
  B = a.ndim() == 3 ? a.size(0) : 1;
  if (a.ndim() == 3) b.dim(0, B);
  N = a.size(-2);
  M = b.size(-2);
}

// The leading shape (...) of the paired boxes a, b (..., 4) of the losses.
inline std::vector<int64_t> loss_dims(Buffer& a, Buffer& b) {
  a.floating();
  a.rank_in(1, 64).dim(-1, 4);
  b.like(a).on(a).is_shape(a.shape);
  return std::vector<int64_t>(a.shape.begin(), a.shape.end() - 1);
}

inline std::vector<int64_t> pair_shape(const Buffer& a, int64_t B, int64_t N, int64_t M) {
  return a.ndim() == 3 ? std::vector<int64_t>{B, N, M} : std::vector<int64_t>{N, M};
}

}  // namespace boxes_detail

template <class Dev>
void register_boxes(py::module_& m) {
  using namespace cvk::boxes;
  using namespace boxes_detail;
  constexpr int D = Dev::device_type;
  m.def("box_pairwise", [](int kind, py::handle a_, py::handle b_, py::handle out_, double eps, uintptr_t stream) {
    check_kind(kind);
    Buffer a = take_on(a_, "boxes1", D), b = take_on(b_, "boxes2", D), out = take_on(out_, "out", D);
    int64_t B, N, M;
    pair_dims(a, b, B, N, M);
    out.like(a).on(a).writable().is_shape(pair_shape(a, B, N, M));
    typename Dev::Guard guard(a, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(pairwise, kind, a.floating(), a.data, b.data, out.data, B, N, M, eps);
  }, py::arg("kind"), py::arg("boxes1"), py::arg("boxes2"), py::arg("out"), py::arg("eps"), py::arg("stream") = 0);

  m.def("box_pairwise_backward", [](int kind, py::handle a_, py::handle b_, py::handle g_, py::handle ga_,
                                    py::handle gb_, double eps, uintptr_t stream) {
    check_kind(kind);
    Buffer a = take_on(a_, "boxes1", D), b = take_on(b_, "boxes2", D), g = take_on(g_, "grad", D);
    Buffer ga = take_on(ga_, "grad_boxes1", D), gb = take_on(gb_, "grad_boxes2", D);
    int64_t B, N, M;
    pair_dims(a, b, B, N, M);
    g.like(a).on(a).is_shape(pair_shape(a, B, N, M));
    ga.like(a).on(a).writable().is_shape(a.shape);
    gb.like(a).on(a).writable().is_shape(b.shape);
    typename Dev::Guard guard(a, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(pairwise_backward, kind, a.floating(), a.data, b.data, g.data, ga.data, gb.data, B, N, M, eps);
  }, py::arg("kind"), py::arg("boxes1"), py::arg("boxes2"), py::arg("grad"), py::arg("grad_boxes1"),
     py::arg("grad_boxes2"), py::arg("eps"), py::arg("stream") = 0);

  m.def("box_loss", [](int kind, py::handle a_, py::handle b_, py::handle out_, double eps, uintptr_t stream) {
    check_kind(kind);
    Buffer a = take_on(a_, "boxes1", D), b = take_on(b_, "boxes2", D), out = take_on(out_, "out", D);
    out.like(a).on(a).writable().is_shape(loss_dims(a, b));
    typename Dev::Guard guard(a, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(loss, kind, a.floating(), a.data, b.data, out.data, out.numel(), eps);
  }, py::arg("kind"), py::arg("boxes1"), py::arg("boxes2"), py::arg("out"), py::arg("eps"), py::arg("stream") = 0);

  m.def("box_loss_backward", [](int kind, py::handle a_, py::handle b_, py::handle g_, py::handle ga_,
                                py::handle gb_, double eps, uintptr_t stream) {
    check_kind(kind);
    Buffer a = take_on(a_, "boxes1", D), b = take_on(b_, "boxes2", D), g = take_on(g_, "grad", D);
    Buffer ga = take_on(ga_, "grad_boxes1", D), gb = take_on(gb_, "grad_boxes2", D);
    g.like(a).on(a).is_shape(loss_dims(a, b));
    ga.like(a).on(a).writable().is_shape(a.shape);
    gb.like(a).on(a).writable().is_shape(a.shape);
    typename Dev::Guard guard(a, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(loss_backward, kind, a.floating(), a.data, b.data, g.data, ga.data, gb.data, g.numel(), eps);
  }, py::arg("kind"), py::arg("boxes1"), py::arg("boxes2"), py::arg("grad"), py::arg("grad_boxes1"),
     py::arg("grad_boxes2"), py::arg("eps"), py::arg("stream") = 0);

  m.def("box_area", [](py::handle x_, py::handle out_, uintptr_t stream) {
    Buffer x = take_on(x_, "boxes", D), out = take_on(out_, "out", D);
    x.floating();
    x.rank_in(1, 64).dim(-1, 4);
    out.like(x).on(x).writable().is_shape(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
    typename Dev::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(area, x.floating(), x.data, out.data, out.numel());
  }, py::arg("boxes"), py::arg("out"), py::arg("stream") = 0);

  m.def("box_convert", [](py::handle x_, py::handle out_, int from_fmt, int to_fmt, uintptr_t stream) {
    Buffer x = take_on(x_, "boxes", D), out = take_on(out_, "out", D);
    x.floating();
    x.rank_in(1, 64).dim(-1, 4);
    out.like(x).on(x).writable().is_shape(x.shape);
    for (int f : {from_fmt, to_fmt})
      if (f < 0 || f > 2) throw py::value_error("box format must be one of BOX_FORMATS' values, got " + std::to_string(f));
    typename Dev::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    CVK_RUN(convert, x.floating(), x.data, out.data, x.numel() / 4, from_fmt, to_fmt);
  }, py::arg("boxes"), py::arg("out"), py::arg("in_fmt"), py::arg("out_fmt"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
