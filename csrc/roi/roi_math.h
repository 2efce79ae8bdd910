// RoI geometry shared by the CPU and CUDA kernels (CVK_HD), in torchvision's exact arithmetic
// so that float32 results are the same bits.
//
// RoIAlign (He et al., Mask R-CNN): a RoI (batch, x1, y1, x2, y2) is scaled by spatial_scale
// (and shifted by -0.5 when aligned), divided into PH x PW bins; each bin averages
// grid_h x grid_w bilinear samples at the centres of a regular sub-grid (grid = sampling_ratio,
// or ceil(bin size) when sampling_ratio <= 0). A sample outside [-1, H] x [-1, W] counts as 0;
// inside, coordinates are clamped to the map. Sample coordinates along y depend only on
// (ph, iy) and along x only on (pw, ix), so kernels compute the two axes separately and form
// the four weights as products, exactly as torchvision's per-sample code does.
//
// RoIPool (Girshick, Fast R-CNN): the RoI is rounded to whole pixels, divided into bins with
// floor/ceil edges, and each bin takes the maximum (0 for an empty bin).
//
// Non-finite RoI coordinates: every sample is "outside", so RoIAlign gives 0 and RoIPool an
// empty bin (0); neither propagates a gradient. (torchvision leaves this undefined.)
#pragma once

#include <math.h>
#include <stdint.h>

#include "common/cvk.h"

namespace cvk {
namespace roi {

template <class T>
CVK_HD inline bool finite4(const T* r) {
  return isfinite(r[1]) && isfinite(r[2]) && isfinite(r[3]) && isfinite(r[4]);
}

// Geometry of one RoI for RoIAlign.
template <class T>
struct AlignRoi {
  T start_h, start_w, bin_h, bin_w;
  int64_t grid_h, grid_w;
  T count;  // samples per bin, at least 1
  bool finite;
};

template <class T>
CVK_HD inline AlignRoi<T> align_roi(const T* r, T scale, int64_t PH, int64_t PW,
                                    int64_t sampling_ratio, bool aligned) {
  AlignRoi<T> g;
  g.finite = finite4(r);
  const T offset = aligned ? T(0.5) : T(0);
  g.start_w = r[1] * scale - offset;
  g.start_h = r[2] * scale - offset;
  const T end_w = r[3] * scale - offset;
  const T end_h = r[4] * scale - offset;
  T roi_w = end_w - g.start_w;
  T roi_h = end_h - g.start_h;
  if (!aligned) {  // malformed RoIs are forced to 1 x 1
    roi_w = cvk_max(roi_w, T(1));
    roi_h = cvk_max(roi_h, T(1));
  }
  g.bin_h = roi_h / static_cast<T>(PH);
  g.bin_w = roi_w / static_cast<T>(PW);
  if (!g.finite) {
    g.grid_h = g.grid_w = 0;
  } else {
    g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(ceil(roi_h / PH));
    g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(ceil(roi_w / PW));
    if (g.grid_h < 0) g.grid_h = 0;  // a negative-size aligned RoI samples nothing
    if (g.grid_w < 0) g.grid_w = 0;
  }
  const int64_t n = g.grid_h * g.grid_w;
  g.count = static_cast<T>(n > 1 ? n : 1);
  return g;
}

// One axis of a bilinear sample: the two neighbouring pixel rows (or columns) and weights.
template <class T>
struct Tap {
  int64_t lo, hi;
  T l, h;  // weight of hi is l, weight of lo is h
  bool valid;
};

// Sample coordinate of sub-sample i of bin p along an axis, as torchvision computes it.
template <class T>
CVK_HD inline T sample_coord(T start, int64_t p, T bin, int64_t i, int64_t grid) {
  return start + static_cast<T>(p) * bin +
         static_cast<T>(static_cast<float>(i) + 0.5f) * bin / static_cast<T>(grid);
}

template <class T>
CVK_HD inline Tap<T> axis_tap(T v, int64_t size) {
  Tap<T> t;
  // Written as !(inside) so that NaN takes this branch.
  if (!(v >= T(-1) && v <= static_cast<T>(size))) {
    t.valid = false;
    t.lo = t.hi = 0;
    t.l = t.h = T(0);
    return t;
  }
  t.valid = true;
  if (v <= T(0)) v = T(0);
  t.lo = static_cast<int64_t>(v);
  if (t.lo >= size - 1) {
    t.hi = t.lo = size - 1;
    v = static_cast<T>(t.lo);
  } else {
    t.hi = t.lo + 1;
  }
  t.l = v - static_cast<T>(t.lo);
  t.h = T(1) - t.l;
  return t;
}

CVK_HD inline int64_t clip_index(int64_t v, int64_t hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

// Geometry of one bin of RoIPool: [hs, he) x [ws, we), clipped to the map.
struct PoolBin {
  int64_t hs, he, ws, we;
  bool empty;
};

template <class T>
CVK_HD inline PoolBin pool_bin(const T* r, T scale, int64_t H, int64_t W, int64_t PH,
                               int64_t PW, int64_t ph, int64_t pw) {
  PoolBin b;
  if (!finite4(r)) {
    b.hs = b.he = b.ws = b.we = 0;
    b.empty = true;
    return b;
  }
  const int64_t start_w = static_cast<int64_t>(round(r[1] * scale));
  const int64_t start_h = static_cast<int64_t>(round(r[2] * scale));
  const int64_t end_w = static_cast<int64_t>(round(r[3] * scale));
  const int64_t end_h = static_cast<int64_t>(round(r[4] * scale));
  const int64_t roi_w = end_w - start_w + 1 > 1 ? end_w - start_w + 1 : 1;
  const int64_t roi_h = end_h - start_h + 1 > 1 ? end_h - start_h + 1 : 1;
  const T bin_h = static_cast<T>(roi_h) / static_cast<T>(PH);
  const T bin_w = static_cast<T>(roi_w) / static_cast<T>(PW);
  int64_t hs = static_cast<int64_t>(floor(static_cast<T>(ph) * bin_h));
  int64_t ws = static_cast<int64_t>(floor(static_cast<T>(pw) * bin_w));
  int64_t he = static_cast<int64_t>(ceil(static_cast<T>(ph + 1) * bin_h));
  int64_t we = static_cast<int64_t>(ceil(static_cast<T>(pw + 1) * bin_w));
  b.hs = clip_index(hs + start_h, H);
  b.he = clip_index(he + start_h, H);
  b.ws = clip_index(ws + start_w, W);
  b.we = clip_index(we + start_w, W);
  b.empty = b.he <= b.hs || b.we <= b.ws;
  return b;
}

}  // namespace roi
}  // namespace cvk
