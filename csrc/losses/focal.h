// The sigmoid focal loss of one logit (Lin et al., "Focal Loss for Dense Object Detection";
// torchvision.ops.sigmoid_focal_loss), its value and its derivative, shared by every kernel:
//   p = sigmoid(x), ce = max(x, 0) - x t + log(1 + e^-|x|)   (binary cross-entropy with logits)
//   m = 1 - p_t with p_t = p t + (1 - p)(1 - t)
//   loss = a_t ce m^g, a_t = a t + (1 - a)(1 - t) (a_t = 1 when a < 0)
//   d loss / dx = a_t [(p - t) m^g - g ce m^(g-1) (2t - 1) p (1 - p)]
// (the m^(g-1) term is 0 when g = 0, as torch's pow backward makes it). float uses the
// polynomial exp / log of fast_math.h (no library call, so loops vectorize); double uses libm.
//
// The softmax focal loss of a pixel (losses_simd_impl.h): with log p = log_softmax(x)[t],
// p = e^(log p) and class weight w,
//   loss = -w (1 - p)^g log p                      (g = 0: weighted cross-entropy)
//   d loss / d x_j = G (p_j - [j == t]),  G = w ((1 - p)^g - g (1 - p)^(g-1) p log p)
#pragma once

#include <cmath>
#include <cstdint>

#include "common/cvk.h"
#include "common/fast_math.h"

namespace cvk {
namespace losses {

CVK_HD inline float focal_exp(float v) { return fast_expf(v); }
CVK_HD inline double focal_exp(double v) { return exp(v); }
// log(1 + e) for e in [0, 1], accurate also for tiny e: log(u) * e / (u - 1) with u = 1 + e
// rounded (Goldberg's correction; e itself where u rounds to 1).
CVK_HD inline float focal_log(float v) { return fast_logf(v); }  // v >= 1 here (a softmax sum)
CVK_HD inline double focal_log(double v) { return log(v); }
CVK_HD inline float focal_log1p_unit(float e) {
  const float u = 1.0f + e;
  const float d = u - 1.0f;
  return d == 0.0f ? e : fast_logf(u) * (e / d);
}
CVK_HD inline double focal_log1p_unit(double e) { return log1p(e); }

// m^p for m >= 0 and a run-time p: float by the polynomial exp and log (vectorizes; relative
// error about 1e-7 * (1 + |p log m|)), double by libm.
CVK_HD inline float focal_powr(float m, float p) {
  const float r = fast_expf(p * fast_logf(m > 0.0f ? m : 1.0f));
  return m > 0.0f ? r : (p == 0.0f ? 1.0f : (p > 0.0f ? 0.0f : INFINITY));
}
CVK_HD inline double focal_powr(double m, double p) { return pow(m, p); }

// m^g: G >= 0 is a compile-time integer exponent (the 0, 1, 2, 3 of practice, as products);
// G = -1 takes g at run time.
template <int G, class T>
CVK_HD inline T focal_pow(T m, T g) {
  if (G == 0) return T(1);
  if (G == 1) return m;
  if (G == 2) return m * m;
  if (G == 3) return m * m * m;
  return focal_powr(m, g);
}

// d m^g / dm = g m^(g-1), 0 when g = 0.
template <int G, class T>
CVK_HD inline T focal_dpow(T m, T g) {
  if (G == 0) return T(0);
  if (G == 1) return T(1);
  if (G == 2) return T(2) * m;
  if (G == 3) return T(3) * (m * m);
  return g == T(0) ? T(0) : g * focal_powr(m, g - T(1));
}

template <class T>
struct FocalOut {
  T loss, grad;
};

template <int G, class T>
CVK_HD inline FocalOut<T> sigmoid_focal(T x, T t, T alpha, T gamma) {
  const T ax = x < T(0) ? -x : x;
  const T e = focal_exp(-ax);                    // e^-|x| in (0, 1]
  const T inv = T(1) / (T(1) + e);
  const T p = x >= T(0) ? inv : e * inv;         // sigmoid(x) without overflow
  const T ce = (x > T(0) ? x : T(0)) - x * t + focal_log1p_unit(e);
  const T p_t = p * t + (T(1) - p) * (T(1) - t);
  const T m = T(1) - p_t;
  const T a_t = alpha >= T(0) ? alpha * t + (T(1) - alpha) * (T(1) - t) : T(1);
  const T mg = focal_pow<G>(m, gamma);
  const T dm = focal_dpow<G>(m, gamma);
  FocalOut<T> out;
  out.loss = a_t * (ce * mg);
  out.grad = a_t * ((p - t) * mg - ce * dm * ((T(2) * t - T(1)) * (p * (T(1) - p))));
  return out;
}

}  // namespace losses
}  // namespace cvk
