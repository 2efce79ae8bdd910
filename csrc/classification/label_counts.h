// Counting kernels of the label metrics (accuracy, precision / recall / F-beta, balanced
// accuracy, confusion matrices), as scikit-learn defines them (sklearn.metrics._classification).
//
// Every such metric is a function of a few per-class totals, so one pass over the labels is
// all the work:
//   * class_sums: for integer labels in [lo, lo + K), per class the true positives (y_true ==
//     y_pred == class), the support (y_true == class) and the predicted count (y_pred ==
//     class), as counts or weight sums; O(K) memory whatever the number of classes.
//   * confusion_counts: the full K x K matrix of (y_true, y_pred) pairs.
//   * indicator_sums: the same three totals per label (or per sample) of multilabel 0/1
//     indicator matrices.
// Labels outside [lo, lo + K) are skipped (scikit-learn's `labels=` leaves them out). Each
// thread counts its slice of the samples into its own totals, which are added at the end:
// no atomics, and the result does not depend on the thread count (integer counts; weight sums
// are added in a fixed order of slices).
#pragma once

#include <cstdint>

#include "common/cvk.h"

namespace cvk {
namespace classification {

// The counter of label y in a range starting at lo: y - lo, computed without signed overflow;
// labels below lo wrap to huge values, so one unsigned compare with K tells a label in
// [lo, lo + K) from one outside (shared by the CPU and CUDA kernels).
CVK_HD inline uint64_t label_offset(int64_t y, int64_t lo) {
  return static_cast<uint64_t>(y) - static_cast<uint64_t>(lo);
}

// Smallest and largest of x[0, n) (n >= 1).
void label_range(const int64_t* x, int64_t n, int64_t* lo, int64_t* hi);

// tp, true_sum, pred_sum: (K,) each, overwritten. w: (n,) or null (counts).
void class_sums(const int64_t* y_true, const int64_t* y_pred, const double* w, int64_t n, int64_t lo, int64_t K,
                double* tp, double* true_sum, double* pred_sum);

// out: (K, K) row-major, out[(t - lo) * K + (p - lo)], overwritten; counts when w is null.
void confusion_counts(const int64_t* y_true, const int64_t* y_pred, const double* w, int64_t n, int64_t lo,
                      int64_t K, double* out);

// Multilabel (n, L) row-major 0/1 matrices (nonzero = 1). Per label (samplewise = false:
// outputs (L,)) or per sample (samplewise = true: outputs (n,)): true positives, true count,
// predicted count, weighted by w (n,) or null.
void indicator_sums(const uint8_t* y_true, const uint8_t* y_pred, const double* w, int64_t n, int64_t L,
                    bool samplewise, double* tp, double* true_sum, double* pred_sum);

}  // namespace classification
}  // namespace cvk
