// IoU of rotated boxes (cx, cy, w, h, angle in degrees, counter-clockwise; torchvision's
// "cxcywhr", detectron2's rotated boxes): each box's corners, the intersection polygon by
// clipping one box by the other's four edges (Sutherland-Hodgman: both are convex), its area by
// the shoelace formula, IoU = inter / (area1 + area2 - inter); 0 when the union is empty.
// Double precision throughout; CPU and CUDA share it.
#pragma once

#include <cmath>

#include "common/cvk.h"

namespace cvk {
namespace boxes {

struct Pt {
  double x, y;
};

// The 4 corners, counter-clockwise.
CVK_HD inline void rotated_corners(const double* b, Pt* p) {
  const double t = b[4] * 0.017453292519943295;  // pi / 180
  const double c = cos(t), s = sin(t), hw = b[2] / 2, hh = b[3] / 2;
  const double dx[4] = {-hw, hw, hw, -hw}, dy[4] = {-hh, -hh, hh, hh};
  for (int i = 0; i < 4; ++i) p[i] = {b[0] + c * dx[i] - s * dy[i], b[1] + s * dx[i] + c * dy[i]};
}

CVK_HD inline double polygon_area(const Pt* p, int n) {
  double a = 0;
  for (int i = 0; i < n; ++i) {
    const Pt& u = p[i];
    const Pt& v = p[(i + 1) % n];
    a += u.x * v.y - v.x * u.y;
  }
  return a / 2;
}

// Area of the intersection of two convex counter-clockwise quadrilaterals.
CVK_HD inline double quad_intersection(const Pt* subject, const Pt* clip) {
  Pt buf[2][16];  // a convex 4-gon clipped by 4 half-planes has at most 8 vertices
  int n = 4;
  for (int i = 0; i < 4; ++i) buf[0][i] = subject[i];
  int cur = 0;
  for (int e = 0; e < 4 && n > 0; ++e) {
    const Pt a = clip[e], b = clip[(e + 1) % 4];
    const double ex = b.x - a.x, ey = b.y - a.y;
    const Pt* in = buf[cur];
    Pt* out = buf[1 - cur];
    int m = 0;
    for (int i = 0; i < n; ++i) {
      const Pt p = in[i], q = in[(i + 1) % n];
      const double sp = ex * (p.y - a.y) - ey * (p.x - a.x);  // >= 0: inside (left of the edge)
      const double sq = ex * (q.y - a.y) - ey * (q.x - a.x);
      if (sp >= 0) out[m++] = p;
      if ((sp >= 0) != (sq >= 0)) {  // the edge p -> q crosses the clip line
        const double r = sp / (sp - sq);
        out[m++] = {p.x + r * (q.x - p.x), p.y + r * (q.y - p.y)};
      }
    }
    n = m;
    cur = 1 - cur;
  }
  return n < 3 ? 0.0 : fabs(polygon_area(buf[cur], n));
}

// A box ready for pairing: its corners, area, center and the radius of its bounding circle;
// nan marks a non-finite coordinate.
struct RotBox {
  Pt p[4];
  double area, cx, cy, r;
  bool nan;
};

CVK_HD inline RotBox rotated_box(const double* b) {
  RotBox o;
  double any = 0;
  for (int k = 0; k < 5; ++k) any += b[k];
  o.nan = !(any - any == 0);  // NaN or infinite
  rotated_corners(b, o.p);
  o.area = b[2] * b[3];
  o.cx = b[0];
  o.cy = b[1];
  o.r = sqrt(b[2] * b[2] + b[3] * b[3]) / 2;
  return o;
}

CVK_HD inline double rotated_iou(const RotBox& a, const RotBox& b) {
  if (a.nan || b.nan) return NAN;  // a non-finite coordinate gives NaN, as for axis-aligned boxes
  if (!(a.area > 0) || !(b.area > 0)) return 0.0;
  const double dx = a.cx - b.cx, dy = a.cy - b.cy, rr = a.r + b.r;
  if (dx * dx + dy * dy > rr * rr) return 0.0;  // bounding circles apart: no overlap
  const double inter = quad_intersection(a.p, b.p);
  const double uni = a.area + b.area - inter;
  return uni > 0 ? inter / uni : 0.0;
}

CVK_HD inline double rotated_iou(const double* a, const double* b) { return rotated_iou(rotated_box(a), rotated_box(b)); }

}  // namespace boxes
}  // namespace cvk
