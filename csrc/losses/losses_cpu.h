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

// Softmax focal loss of (N, C, S) logits x against (N, S) labels t (-> focal.h's
// softmax_focal): per pixel loss (N, S) and gradient (N, C, S) (either may be null); returns
// the sum of the losses and, in weight_sum, the sum of the kept pixels' class weights (their
// count without weights). Pixels labelled ignore_index count nothing. Labels must be in
// [0, C) or ignore_index (the caller checks).
double softmax_focal_loss(const float* x, const int64_t* t, const float* w, int64_t N, int64_t C, int64_t S,
                          double gamma, int64_t ignore_index, float* loss, float* grad, double* weight_sum);
double softmax_focal_loss(const double* x, const int64_t* t, const double* w, int64_t N, int64_t C, int64_t S,
                          double gamma, int64_t ignore_index, double* loss, double* grad, double* weight_sum);

}  // namespace losses
}  // namespace cvk
