// Box coding of two-stage and single-stage detectors (torchvision's BoxCoder, from Faster R-CNN):
// a box is coded against a reference box (an anchor or proposal) as
//   dx = wx (cx - cx_a) / w_a,  dy = wy (cy - cy_a) / h_a,  dw = ww log(w / w_a),  dh = wh log(h / h_a)
// with centers cx = x1 + w / 2 and (wx, wy, ww, wh) the weights; decoding inverts it, with dw
// and dh clamped to bbox_xform_clip (log(1000 / 16) by default) before the exponential. The
// operations and their order are torchvision's (encode_boxes, BoxCoder.decode_single), so the
// values match to the last bit up to exp / log rounding.
#pragma once

#include <cmath>

#include "common/cvk.h"

namespace cvk {
namespace decode {

// d: (dx, dy, dw, dh) codes; a: the anchor (x1, y1, x2, y2); w: the 4 weights; out: x1 y1 x2 y2.
template <class T>
CVK_HD inline void decode_box(const T* d, const T* a, const T* w, T clip, T* out) {
  using std::exp;
  const T width = a[2] - a[0], height = a[3] - a[1];
  const T ctr_x = a[0] + T(0.5) * width, ctr_y = a[1] + T(0.5) * height;
  const T dx = d[0] / w[0], dy = d[1] / w[1];
  T dw = d[2] / w[2], dh = d[3] / w[3];
  dw = dw > clip ? clip : dw;  // torch.clamp(max=clip): NaN stays NaN
  dh = dh > clip ? clip : dh;
  const T pcx = dx * width + ctr_x, pcy = dy * height + ctr_y;
  const T pw = exp(dw) * width, ph = exp(dh) * height;
  const T hw = T(0.5) * pw, hh = T(0.5) * ph;
  out[0] = pcx - hw;
  out[1] = pcy - hh;
  out[2] = pcx + hw;
  out[3] = pcy + hh;
}

// b: the box to code, a: the reference (proposal / anchor), both x1 y1 x2 y2; out: 4 codes.
template <class T>
CVK_HD inline void encode_box(const T* b, const T* a, const T* w, T* out) {
  using std::log;
  const T ew = a[2] - a[0], eh = a[3] - a[1];
  const T ecx = a[0] + T(0.5) * ew, ecy = a[1] + T(0.5) * eh;
  const T gw = b[2] - b[0], gh = b[3] - b[1];
  const T gcx = b[0] + T(0.5) * gw, gcy = b[1] + T(0.5) * gh;
  out[0] = w[0] * (gcx - ecx) / ew;
  out[1] = w[1] * (gcy - ecy) / eh;
  out[2] = w[2] * log(gw / ew);
  out[3] = w[3] * log(gh / eh);
}

}  // namespace decode
}  // namespace cvk
