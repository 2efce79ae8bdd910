// CPU loss kernels.
#pragma once

#include <cstdint>

namespace cvk {
namespace losses {

// Sigmoid focal loss (focal.h) of n logits x and targets t: each element's loss into loss and
// its derivative into grad (either may be null), and the sum of the losses, returned (double,
// summed in fixed chunks and reduced in order: the same bits whatever the thread count).
double sigmoid_focal_loss(const float* x, const float* t, int64_t n, double alpha, double gamma, float* loss,
                          float* grad);
double sigmoid_focal_loss(const double* x, const double* t, int64_t n, double alpha, double gamma, double* loss,
                          double* grad);

}  // namespace losses
}  // namespace cvk
