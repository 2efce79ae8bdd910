// Box geometry shared by the CPU and CUDA kernels (CVK_HD): the value of IoU, GIoU, DIoU and
// CIoU for one pair of (x1, y1, x2, y2) boxes, and its gradient.
//
// Two flavours of the same definitions, matching torchvision operation for operation so that
// float32 results are the same bits:
//   * "matrix" (box_iou, generalized_box_iou, distance_box_iou, complete_box_iou):
//       inter = max(min(x2) - max(x1), 0) * max(min(y2) - max(y1), 0)
//       union = (area_a + area_b) - inter,        iou  = inter / union   (0 when union == 0)
//       GIoU  = iou - (area_c - union) / area_c   (area_c of the enclosing box; iou if 0)
//       DIoU  = iou - d^2 / (c^2 + eps)           (d: centre distance, c: enclosing diagonal)
//       CIoU  = DIoU - alpha * v,  v = 4/pi^2 (atan(w_a/h_a) - atan(w_b/h_b))^2,
//               alpha = v / (1 - iou + v + eps), a constant for the gradient.
//   * "loss" (the paired *_box_iou_loss functions): iou = inter / (union + eps), the GIoU term
//     divides by (area_c + eps), the enclosing box is not clamped, and the value is 1 - metric.
// The only departures from torchvision are the guards that turn 0/0 into a number: IoU of two
// empty boxes is 0 (torchvision: NaN), GIoU with an empty enclosing box equals IoU, and the
// aspect angle of a box with w == h == 0 is 0. NaN in any coordinate still gives NaN.
// Cost: O(1) per pair; the gradient repeats the forward and back-propagates by hand.
#pragma once

#include <math.h>

#include <type_traits>

#include "common/cvk.h"

namespace cvk {
namespace boxes {

enum class PairKind : int { IoU = 0, GIoU = 1, DIoU = 2, CIoU = 3 };

// 4 / pi^2, rounded once in double and then to T like torch's python-scalar multiply.
constexpr double kFourOverPiSq = 0.40528473456935108578;

// float atan without a library call, so the CPU loops vectorize and CPU and GPU give the
// same bits (libm's atanf and CUDA's differ). Cephes' scheme: reduce |x| to [0, tan(pi/8)]
// with atan(x) = pi/2 + atan(-1/x) (x > tan(3pi/8)) or pi/4 + atan((x-1)/(x+1))
// (x > tan(pi/8)), then an odd degree-9 polynomial; max error about 2 ulp. Selects, not
// branches. NaN gives NaN, +-inf gives +-pi/2.
CVK_HD inline float cvk_atan(float x0) {
  const bool neg = x0 < 0.0f;
  const float x = neg ? -x0 : x0;
  const bool big = x > 2.414213562373095f;
  const bool mid = !big && x > 0.4142135623730950f;
  const float r = big ? -1.0f / x : (mid ? (x - 1.0f) / (x + 1.0f) : x);
  const float base = big ? 1.5707963267948966f : (mid ? 0.7853981633974483f : 0.0f);
  const float z = r * r;
  const float p = (((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z -
                   3.33329491539e-1f) * z * r + r;
  const float y = base + p;
  return neg ? -y : y;
}
CVK_HD inline double cvk_atan(double x) { return atan(x); }

// atan(w / h): the CIoU aspect angle. A box with w == h == 0 has angle 0 instead of NaN.
template <class T>
CVK_HD inline T aspect_angle(T w, T h) {
  return (w == T(0) && h == T(0)) ? T(0) : cvk_atan(w / h);
}

// Per-box values the matrix forward reuses across a whole row or column.
template <class T>
struct BoxInfo {
  T x1, y1, x2, y2, area, cx, cy, angle;
};

template <class T>
CVK_HD inline BoxInfo<T> box_info(const T* b, bool need_angle) {
  BoxInfo<T> r;
  r.x1 = b[0];
  r.y1 = b[1];
  r.x2 = b[2];
  r.y2 = b[3];
  const T w = r.x2 - r.x1, h = r.y2 - r.y1;
  r.area = w * h;
  r.cx = (r.x1 + r.x2) / T(2);
  r.cy = (r.y1 + r.y2) / T(2);
  r.angle = need_angle ? aspect_angle(w, h) : T(0);
  return r;
}

// The corners and area of a box, all that IoU needs (NMS on the CPU and on the GPU).
template <class T>
CVK_HD inline BoxInfo<T> iou_box(const T* b) {
  BoxInfo<T> r;
  r.x1 = b[0];
  r.y1 = b[1];
  r.x2 = b[2];
  r.y2 = b[3];
  r.area = (r.x2 - r.x1) * (r.y2 - r.y1);
  r.cx = r.cy = r.angle = T(0);
  return r;
}

// Calls f(std::integral_constant<PairKind, K>{}) for the run-time kind, so that the kernels
// are compiled once per kind; an unknown kind is an error (the bindings check it first).
template <class F>
void dispatch_kind(int kind, F&& f) {
  switch (static_cast<PairKind>(kind)) {
    case PairKind::IoU: return f(std::integral_constant<PairKind, PairKind::IoU>{});
    case PairKind::GIoU: return f(std::integral_constant<PairKind, PairKind::GIoU>{});
    case PairKind::DIoU: return f(std::integral_constant<PairKind, PairKind::DIoU>{});
    case PairKind::CIoU: return f(std::integral_constant<PairKind, PairKind::CIoU>{});
  }
  throw std::invalid_argument("cvkernels: unknown box metric kind " + std::to_string(kind));
}

// The "matrix" value for one pair, from precomputed BoxInfo. Branch-free apart from the
// compile-time kind, so the CPU loop over j auto-vectorizes.
template <PairKind K, class T>
CVK_HD inline T pair_value(const BoxInfo<T>& a, const BoxInfo<T>& b, T eps) {
  const T iw = cvk_max(cvk_min(a.x2, b.x2) - cvk_max(a.x1, b.x1), T(0));
  const T ih = cvk_max(cvk_min(a.y2, b.y2) - cvk_max(a.y1, b.y1), T(0));
  const T inter = iw * ih;
  const T uni = (a.area + b.area) - inter;
  const T q = inter / uni;
  const T iou = uni == T(0) ? T(0) : q;
  if (K == PairKind::IoU) return iou;
  const T cw = cvk_max(cvk_max(a.x2, b.x2) - cvk_min(a.x1, b.x1), T(0));
  const T ch = cvk_max(cvk_max(a.y2, b.y2) - cvk_min(a.y1, b.y1), T(0));
  if (K == PairKind::GIoU) {
    const T ac = cw * ch;
    const T g = iou - (ac - uni) / ac;
    return ac == T(0) ? iou : g;
  }
  const T diag = (cw * cw + ch * ch) + eps;
  const T dx = a.cx - b.cx, dy = a.cy - b.cy;
  const T diou = iou - (dx * dx + dy * dy) / diag;
  if (K == PairKind::DIoU) return diou;
  const T da = a.angle - b.angle;
  const T v = T(kFourOverPiSq) * (da * da);
  const T alpha = v / (((T(1) - iou) + v) + eps);
  return diou - alpha * v;
}

// d max(p, q) / dp, with torch's convention of splitting the gradient evenly on a tie.
// Selects, not branches, so that loops over pairs vectorize.
template <class T>
CVK_HD inline void max_backward(T p, T q, T g, T& gp, T& gq) {
  const T half = g / T(2);
  gp += p > q ? g : (q > p ? T(0) : half);
  gq += q > p ? g : (p > q ? T(0) : half);
}
// d min(p, q): the gradient goes to the smaller argument (split evenly on a tie).
template <class T>
CVK_HD inline void min_backward(T p, T q, T g, T& gp, T& gq) { max_backward(-p, -q, g, gp, gq); }

// Value of one pair from raw coordinates and, when ga/gb are given, the gradient of
// g * value added into ga[0..3] and gb[0..3]. kLoss selects the loss flavour (see top).
template <PairKind K, bool kLoss, class T>
CVK_HD CVK_FORCEINLINE T pair_value_grad(const T* a, const T* b, T eps, T g, T* ga, T* gb) {
  const T ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3];
  const T bx1 = b[0], by1 = b[1], bx2 = b[2], by2 = b[3];
  const T aw = ax2 - ax1, ah = ay2 - ay1, bw = bx2 - bx1, bh = by2 - by1;
  const T area_a = aw * ah, area_b = bw * bh;

  // Intersection.
  const T ix1 = cvk_max(ax1, bx1), iy1 = cvk_max(ay1, by1);
  const T ix2 = cvk_min(ax2, bx2), iy2 = cvk_min(ay2, by2);
  const T iwr = ix2 - ix1, ihr = iy2 - iy1;
  T inter;
  bool pass_w, pass_h;  // does the gradient flow through the clamped width / height?
  if (kLoss) {
    const bool pos = (ihr > T(0)) && (iwr > T(0));
    inter = pos ? iwr * ihr : T(0);
    pass_w = pass_h = pos;
  } else {
    inter = cvk_max(iwr, T(0)) * cvk_max(ihr, T(0));
    pass_w = iwr >= T(0);
    pass_h = ihr >= T(0);
  }
  const T iw = pass_w ? iwr : T(0), ih = pass_h ? ihr : T(0);
  const T uni = (area_a + area_b) - inter;
  const T den = kLoss ? uni + eps : uni;
  const bool iou_defined = kLoss || uni != T(0);
  const T iou = iou_defined ? inter / den : T(0);

  // Enclosing box (GIoU, DIoU, CIoU).
  const T cx1 = cvk_min(ax1, bx1), cy1 = cvk_min(ay1, by1);
  const T cx2 = cvk_max(ax2, bx2), cy2 = cvk_max(ay2, by2);
  const T cwr = cx2 - cx1, chr = cy2 - cy1;
  const bool pass_cw = kLoss || cwr >= T(0), pass_ch = kLoss || chr >= T(0);
  const T cw = pass_cw ? cwr : T(0), ch = pass_ch ? chr : T(0);

  // Forward value, and the gradient of the value with respect to the intermediates.
  const T sgn = kLoss ? T(-1) : T(1);  // the loss is 1 - metric
  T value;
  T g_iou = sgn * g, g_uni = 0, g_ac = 0, g_cd = 0, g_diag = 0, g_v = 0;
  T dx = 0, dy = 0, ta = 0, tb = 0;
  if (K == PairKind::IoU) {
    value = kLoss ? T(1) - iou : iou;
  } else if (K == PairKind::GIoU) {
    const T ac = cw * ch;
    if (kLoss) {
      const T acd = ac + eps;
      value = T(1) - (iou - (ac - uni) / acd);
      g_ac = g * (eps + uni) / (acd * acd);
      g_uni = -g / acd;
    } else if (ac == T(0)) {
      value = iou;
    } else {
      value = iou - (ac - uni) / ac;
      g_ac = -g * uni / (ac * ac);
      g_uni = g / ac;
    }
  } else {
    const T diag = (cw * cw + ch * ch) + eps;
    dx = (ax1 + ax2) / T(2) - (bx1 + bx2) / T(2);
    dy = (ay1 + ay2) / T(2) - (by1 + by2) / T(2);
    const T cd = dx * dx + dy * dy;
    // matrix: iou - cd/diag; loss: (1 - iou) + cd/diag
    value = kLoss ? (T(1) - iou) + cd / diag : iou - cd / diag;
    g_cd = -sgn * g / diag;
    g_diag = sgn * g * cd / (diag * diag);
    if (K == PairKind::CIoU) {
      ta = aspect_angle(aw, ah);
      tb = aspect_angle(bw, bh);
      const T dt = kLoss ? tb - ta : ta - tb;
      const T v = T(kFourOverPiSq) * (dt * dt);
      const T alpha = v / (((T(1) - iou) + v) + eps);
      value = kLoss ? value + alpha * v : value - alpha * v;
      g_v = -sgn * g * alpha;
    }
  }
  if (ga == nullptr) return value;

  // Back-propagate: iou -> (inter, union); union -> areas and inter.
  T g_inter = 0;
  if (iou_defined) {
    g_inter += g_iou / den;
    g_uni += -g_iou * inter / (den * den);
  }
  T g_area_a = g_uni, g_area_b = g_uni;
  g_inter -= g_uni;
  T g_aw = g_area_a * ah, g_ah = g_area_a * aw, g_bw = g_area_b * bh, g_bh = g_area_b * bw;

  // inter -> clamped width/height -> min/max of the coordinates.
  const T g_iw = pass_w ? g_inter * ih : T(0);
  const T g_ih = pass_h ? g_inter * iw : T(0);
  max_backward(ax1, bx1, -g_iw, ga[0], gb[0]);
  min_backward(ax2, bx2, g_iw, ga[2], gb[2]);
  max_backward(ay1, by1, -g_ih, ga[1], gb[1]);
  min_backward(ay2, by2, g_ih, ga[3], gb[3]);

  // Enclosing box: area (GIoU) or squared diagonal (DIoU, CIoU).
  T g_cw = 0, g_ch = 0;
  if (K == PairKind::GIoU) {
    g_cw = g_ac * ch;
    g_ch = g_ac * cw;
  } else if (K != PairKind::IoU) {
    g_cw = g_diag * T(2) * cw;
    g_ch = g_diag * T(2) * ch;
  }
  if (!pass_cw) g_cw = 0;
  if (!pass_ch) g_ch = 0;
  min_backward(ax1, bx1, -g_cw, ga[0], gb[0]);
  max_backward(ax2, bx2, g_cw, ga[2], gb[2]);
  min_backward(ay1, by1, -g_ch, ga[1], gb[1]);
  max_backward(ay2, by2, g_ch, ga[3], gb[3]);

  // Centre distance.
  if (K == PairKind::DIoU || K == PairKind::CIoU) {
    const T g_dx = g_cd * T(2) * dx / T(2), g_dy = g_cd * T(2) * dy / T(2);
    ga[0] += g_dx;
    ga[2] += g_dx;
    gb[0] -= g_dx;
    gb[2] -= g_dx;
    ga[1] += g_dy;
    ga[3] += g_dy;
    gb[1] -= g_dy;
    gb[3] -= g_dy;
  }

  // Aspect angles: d atan(w/h) = (dw / h - w dh / h^2) / (1 + (w/h)^2).
  if (K == PairKind::CIoU) {
    const T g_ta = g_v * T(kFourOverPiSq) * T(2) * (ta - tb);
    if (!(aw == T(0) && ah == T(0))) {
      const T r = aw / ah, s = g_ta / (T(1) + r * r);
      g_aw += s / ah;
      g_ah -= s * r / ah;
    }
    if (!(bw == T(0) && bh == T(0))) {
      const T r = bw / bh, s = -g_ta / (T(1) + r * r);
      g_bw += s / bh;
      g_bh -= s * r / bh;
    }
  }

  // Widths and heights -> coordinates.
  ga[0] -= g_aw;
  ga[2] += g_aw;
  ga[1] -= g_ah;
  ga[3] += g_ah;
  gb[0] -= g_bw;
  gb[2] += g_bw;
  gb[1] -= g_bh;
  gb[3] += g_bh;
  return value;
}

// Box format conversions (torchvision.ops.box_convert's formulas). fmt: 0 xyxy, 1 xywh,
// 2 cxcywh. Non-xyxy to non-xyxy goes through xyxy, as torchvision does.
enum class BoxFmt : int { XYXY = 0, XYWH = 1, CXCYWH = 2 };

template <class T>
CVK_HD inline void to_xyxy(BoxFmt f, const T* in, T* out) {
  if (f == BoxFmt::XYWH) {
    out[0] = in[0];
    out[1] = in[1];
    out[2] = in[0] + in[2];
    out[3] = in[1] + in[3];
  } else if (f == BoxFmt::CXCYWH) {
    out[0] = in[0] - T(0.5) * in[2];
    out[1] = in[1] - T(0.5) * in[3];
    out[2] = in[0] + T(0.5) * in[2];
    out[3] = in[1] + T(0.5) * in[3];
  } else {
    out[0] = in[0];
    out[1] = in[1];
    out[2] = in[2];
    out[3] = in[3];
  }
}

template <class T>
CVK_HD inline void from_xyxy(BoxFmt f, const T* in, T* out) {
  if (f == BoxFmt::XYWH) {
    out[0] = in[0];
    out[1] = in[1];
    out[2] = in[2] - in[0];
    out[3] = in[3] - in[1];
  } else if (f == BoxFmt::CXCYWH) {
    out[0] = (in[0] + in[2]) / T(2);
    out[1] = (in[1] + in[3]) / T(2);
    out[2] = in[2] - in[0];
    out[3] = in[3] - in[1];
  } else {
    out[0] = in[0];
    out[1] = in[1];
    out[2] = in[2];
    out[3] = in[3];
  }
}

template <class T>
CVK_HD inline void convert_box(BoxFmt from, BoxFmt to, const T* in, T* out) {
  if (from == to) {  // a copy, without the rounding of a trip through xyxy
    for (int k = 0; k < 4; ++k) out[k] = in[k];
    return;
  }
  T mid[4];
  to_xyxy(from, in, mid);
  from_xyxy(to, mid, out);
}

}  // namespace boxes
}  // namespace cvk
