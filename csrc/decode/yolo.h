// YOLO's grid / anchor box decoding (Redmon & Farhadi; ultralytics' YOLOv3 and YOLOv5 Detect
// heads). A cell (gx, gy) of a level with stride s and an anchor (aw, ah) in pixels predicts raw
// outputs t = (tx, ty, tw, th, obj, cls...); with sig the logistic function:
//   v3: cx = (sig(tx) + gx) s,            w = exp(tw) aw
//   v5: cx = (2 sig(tx) + (gx - 0.5)) s,  w = (2 sig(tw))^2 aw
// (cy, h alike), and the box is (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2). The scores are
// sig(obj) sig(cls_c) (YOLOv5's non_max_suppression multiplies them). The operations and their
// order are the torch expressions', so float32 values match them up to exp rounding.
#pragma once

#include <cmath>

#include "common/cvk.h"

namespace cvk {
namespace decode {

template <class T>
CVK_HD inline T logistic(T x) {
  using std::exp;
  return T(1) / (T(1) + exp(-x));
}

// t: the 4 box outputs; (gx, gy) the cell; (aw, ah) the anchor in pixels; out: x1 y1 x2 y2.
template <class T>
CVK_HD inline void yolo_box(const T* t, T gx, T gy, T aw, T ah, T stride, bool v5, T* out) {
  using std::exp;
  T cx, cy, w, h;
  if (v5) {
    cx = (logistic(t[0]) * T(2) + (gx - T(0.5))) * stride;
    cy = (logistic(t[1]) * T(2) + (gy - T(0.5))) * stride;
    const T sw = logistic(t[2]) * T(2), sh = logistic(t[3]) * T(2);
    w = sw * sw * aw;
    h = sh * sh * ah;
  } else {
    cx = (logistic(t[0]) + gx) * stride;
    cy = (logistic(t[1]) + gy) * stride;
    w = exp(t[2]) * aw;
    h = exp(t[3]) * ah;
  }
  out[0] = cx - w / T(2);
  out[1] = cy - h / T(2);
  out[2] = cx + w / T(2);
  out[3] = cy + h / T(2);
}

}  // namespace decode
}  // namespace cvk
