// Dice and IoU from counts, shared by CPU and CUDA (CVK_HD).
//   dice = (2 * I + smooth) / (P + T + smooth),   iou = (I + smooth) / (P + T - I + smooth)
// with I the intersection, P and T the prediction and target sizes. When the denominator is 0
// (a class absent from both, with smooth = 0) the score is `empty` (NaN by default: undefined,
// left out of macro averages, as torchmetrics does).
#pragma once

#include "common/cvk.h"

namespace cvk {
namespace masks {

// What the soft-Dice kernels apply to their input over the channels (exported to Python).
enum Activation : int { kActNone = 0, kActSigmoid = 1, kActSoftmax = 2 };

template <class T>
CVK_HD inline T dice_of(T inter, T pred, T target, T smooth, T empty) {
  const T den = pred + target + smooth;
  return den == T(0) ? empty : (T(2) * inter + smooth) / den;
}

template <class T>
CVK_HD inline T iou_of(T inter, T pred, T target, T smooth, T empty) {
  const T den = pred + target - inter + smooth;
  return den == T(0) ? empty : (inter + smooth) / den;
}

}  // namespace masks
}  // namespace cvk
