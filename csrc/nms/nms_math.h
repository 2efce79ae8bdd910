// Shared CPU/CUDA pieces of non-maximum suppression.
//
// "Suppress" is IoU > threshold (strict), with the IoU of box_math.h (torchvision's operation
// order, 0 for two empty boxes, NaN for a NaN coordinate so that a NaN box overlaps nothing).
// torchvision compares the float IoU with a double threshold; float_threshold() gives the
// float t' with (iou > t') == ((double)iou > thr) for every float iou, so float kernels can
// compare in float and still keep exactly the boxes torchvision keeps.
#pragma once

#include <float.h>
#include <math.h>

#include "boxes/box_math.h"
#include "common/cvk.h"

namespace cvk {
namespace nms {

template <class T>
inline T typed_threshold(double thr);

template <>
inline double typed_threshold<double>(double thr) { return thr; }

// The largest float <= thr.
template <>
inline float typed_threshold<float>(double thr) {
  float t = static_cast<float>(thr);
  if (static_cast<double>(t) > thr) t = nextafterf(t, -INFINITY);
  return t;
}

// Score key for sorting: NaN ranks as -inf ("a NaN score is lowest").
template <class T>
CVK_HD inline T score_key(T s) { return s != s ? T(-INFINITY) : s; }

// Soft-NMS weight of a box whose IoU with the selected box is `iou`.
// method 0: gaussian exp(-iou^2 / sigma) (Bodla et al. 2017), applied at any overlap;
// method 1: linear, 1 - iou when iou > thr, else 1.
// float: e^x evaluated in double and rounded once, i.e. the correctly rounded expf (glibc's
// expf is off by one ulp in about 1 case in 1500), which the AVX-512 scan reproduces exactly.
CVK_HD inline float soft_exp(float x) { return static_cast<float>(exp(static_cast<double>(x))); }
CVK_HD inline double soft_exp(double x) { return exp(x); }

// Soft-NMS decay: gaussian exp(-iou^2 / sigma) on any overlap, or linear 1 - iou above thr.
enum SoftMethod : int { kSoftGaussian = 0, kSoftLinear = 1 };

template <class T>
CVK_HD inline T soft_weight(int method, T iou, T thr, T sigma) {
  if (method == kSoftGaussian) return iou > T(0) ? soft_exp(-(iou * iou) / sigma) : T(1);
  return iou > thr ? T(1) - iou : T(1);
}

}  // namespace nms
}  // namespace cvk
