// CUDA versions of the counting kernels of label_counts.h (built with CVK_CUDA=ON), for labels
// that already live on the GPU: the same outputs (float64 totals), unweighted only, on the
// caller's stream. Each total is a whole number below 2^53 held in a double, and adding whole
// numbers in a double is exact in any order, so the atomic additions give the same bits as the
// CPU's counts however the threads are scheduled. (Weight sums are not: their rounding would
// depend on the order, so weighted counts stay on the CPU.)
#pragma once

#include <cstdint>

namespace cvk {
namespace classification {

void class_sums_cuda(const int64_t* y_true, const int64_t* y_pred, int64_t n, int64_t lo, int64_t K, double* tp,
                     double* true_sum, double* pred_sum, void* stream);

void confusion_counts_cuda(const int64_t* y_true, const int64_t* y_pred, int64_t n, int64_t lo, int64_t K,
                           double* out, void* stream);

void indicator_sums_cuda(const uint8_t* y_true, const uint8_t* y_pred, int64_t n, int64_t L, bool samplewise,
                         double* tp, double* true_sum, double* pred_sum, void* stream);

}  // namespace classification
}  // namespace cvk
