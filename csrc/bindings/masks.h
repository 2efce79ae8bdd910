// Argument checks of the mask entries (csrc/masks/), shared by _C (bindings/masks.cpp) and
// _C_cuda (cuda_module.cpp). Shapes:
//   counts: preds / target planes (n, size) uint8 or label maps (N, size) int64; the outputs
//           inter, psum, tsum are int64 with N * C elements ((N, C) in Python);
//   argmax: scores (N, C, ...) float -> (N, ...) int64;
//   dice:   input (N, C, ...) float, labels (N, ...) int64 or dense target like input,
//           statistics (C, 3) float64;
//   pairwise: masks (N, H, W) and (M, H, W) uint8 -> (N, M) float32 or float64.
#pragma once

#include "bindings/device.h"
#include "masks/mask_math.h"

namespace cvk {
namespace bindings {
namespace masks_detail {

// inter, psum, tsum: int64, writable, `count` elements each, on the device of `like`.
inline void count_outputs(std::initializer_list<Buffer*> outs, int64_t count, const Buffer& like) {
  for (Buffer* o : outs) {
    o->dtype(Elem::I64).on(like).writable();
    if (o->numel() != count)
      throw py::value_error(std::string(o->name) + " must hold " + std::to_string(count) + " elements, got shape " +
                            o->shape_str());
  }
}

inline void planes(Buffer& p, Buffer& t) {
  p.dtype(Elem::U8).rank(2);
  t.dtype(Elem::U8).on(p).is_shape(p.shape);
}

inline void label_maps(Buffer& p, Buffer& t) {
  p.dtype(Elem::I64).rank(2);
  t.dtype(Elem::I64).on(p).is_shape(p.shape);
}

inline int64_t pixels(const Buffer& x) {  // product of the dims after (N, C)
  int64_t size = 1;
  for (int64_t i = 2; i < x.ndim(); ++i) size *= x.size(i);
  return size;
}

inline std::vector<int64_t> without_channels(const Buffer& x) {
  std::vector<int64_t> s = x.shape;
  s.erase(s.begin() + 1);
  return s;
}

// (N, C, size) of a soft-Dice call, after checking x, labels / dense and the activation.
inline void dice(Buffer& x, py::handle labels_h, Buffer& labels, py::handle dense_h, Buffer& dense, int activation,
                 int64_t& N, int64_t& C, int64_t& size) {
  x.floating();
  x.rank_in(3, 64);
  N = x.size(0), C = x.size(1), size = pixels(x);
  if (C < 1) throw py::value_error("input must have at least one channel (class), got shape " + x.shape_str());
  if (labels_h.is_none() == dense_h.is_none()) throw py::value_error("give exactly one of labels and dense");
  if (!labels_h.is_none()) labels.dtype(Elem::I64).on(x).is_shape(without_channels(x));
  if (!dense_h.is_none()) dense.like(x).on(x).is_shape(x.shape);
  if (activation != cvk::masks::kActNone && activation != cvk::masks::kActSigmoid &&
      activation != cvk::masks::kActSoftmax)
    throw py::value_error("activation must be one of DICE_ACTIVATIONS' values");
}

inline void pairwise(Buffer& a, Buffer& b, Buffer& out) {
  a.dtype(Elem::U8).rank(3);
  b.dtype(Elem::U8).on(a).rank(3).dim(1, a.size(1)).dim(2, a.size(2));
  out.floating();
  out.on(a).writable().is_shape({a.size(0), b.size(0)});
}

}  // namespace masks_detail
}  // namespace bindings
}  // namespace cvk
