// CPU mask kernels: per (sample, class) counts for Dice / IoU metrics, soft-Dice statistics and
// their gradient, and pairwise IoU / Dice of bit-packed binary masks.
#pragma once

#include <cstdint>

namespace cvk {
namespace masks {

// Binary planes (0 / nonzero bytes): for each of n planes of `size` pixels,
// inter = #(p & t), psum = #p, tsum = #t.
void binary_counts(const uint8_t* p, const uint8_t* t, int64_t n, int64_t size, int64_t* inter,
                   int64_t* psum, int64_t* tsum);

// Label maps (N, size) of int64 labels in [0, C) (pixels whose target is ignore_index are
// skipped): counts (N, C). Returns the first label out of range, or -1 when all are valid
// (then *bad_value holds it).
int64_t label_counts(const int64_t* p, const int64_t* t, int64_t N, int64_t size, int64_t C,
                     int64_t ignore_index, int64_t* inter, int64_t* psum, int64_t* tsum,
                     int64_t* bad_value);

// Labels (N, size) against one-hot planes (N, C, size): class c of a pixel is "label == c" on
// one side and plane c on the other; counts (N, C). Returns the index of a label out of range
// or -1.
int64_t mixed_counts(const int64_t* labels, const uint8_t* planes, bool labels_are_pred,
                     int64_t N, int64_t size, int64_t C, int64_t* inter, int64_t* psum,
                     int64_t* tsum);

// Index of the largest of C values per pixel (first on ties), x (N, C, size) -> (N, size).
void argmax_channels(int dtype, const void* x, int64_t N, int64_t C, int64_t size, int64_t* out);

// Soft-Dice statistics. x (N, C, size) scores; activation 0 none, 1 sigmoid, 2 softmax over C;
// target either labels (N, size) int64 (ignore_index skipped) or dense (N, C, size) of x's
// dtype. stats (C, 3) double: sum p*t, sum p, sum t over N and pixels.
void dice_stats(int dtype, const void* x, const int64_t* labels, const void* dense, int64_t N,
                int64_t C, int64_t size, int activation, int64_t ignore_index, double* stats);
// Gradient of sum_c (g[c,0] * I_c + g[c,1] * P_c) with respect to x (the sum-of-t column has
// no gradient), through the activation; grad_x like x.
void dice_stats_backward(int dtype, const void* x, const int64_t* labels, const void* dense,
                         int64_t N, int64_t C, int64_t size, int activation, int64_t ignore_index,
                         const double* grad_stats, void* grad_x);

// Pairwise IoU (dice=false) or Dice of binary masks a (N, H, W) and b (M, H, W) bytes:
// out (N, M) of dtype. Two empty masks score 0 (pycocotools' convention for IoU).
void pairwise_masks(const uint8_t* a, int64_t N, const uint8_t* b, int64_t M, int64_t H,
                    int64_t W, bool dice, int dtype, void* out);

// SIMD-dispatched inner loops (masks_simd_impl.h), one copy per instruction set. Blocks are
// at most 256 pixels.
// The two extra bins of label_bins, after the 2^shift x 2^shift confusion matrix.
inline uint32_t ignored_bin(int shift) { return 1u << (2 * shift); }
inline uint32_t invalid_bin(int shift) { return (1u << (2 * shift)) + 1; }

#define CVK_MASK_SIMD_DECLS                                                                       \
  void label_bins(const int64_t* p, const int64_t* t, int64_t len, int shift,                  \
                  int64_t ignore_index, uint32_t* bins);                                         \
  void binary_chunk(const uint8_t* p, const uint8_t* t, int64_t n, int64_t* inter,               \
                    int64_t* psum, int64_t* tsum);                                               \
  void pack_rows(const uint8_t* m, int64_t rows, int64_t W, uint64_t* out);                      \
  int64_t and_popcount_rect(const uint64_t* a, const uint64_t* b, int64_t rows, int64_t n,      \
                            int64_t stride);                                                     \
  void dice_stats_block(const float* x, const int64_t* labels, const float* dense,               \
                        int64_t stride, int64_t C, int64_t len, int activation,                  \
                        int64_t ignore_index, double* acc);                                      \
  void dice_stats_block(const double* x, const int64_t* labels, const double* dense,             \
                        int64_t stride, int64_t C, int64_t len, int activation,                  \
                        int64_t ignore_index, double* acc);                                      \
  void dice_stats_backward_block(const float* x, const int64_t* labels, const float* dense,      \
                                 int64_t stride, int64_t C, int64_t len, int activation,         \
                                 int64_t ignore_index, const double* g, float* gx);              \
  void dice_stats_backward_block(const double* x, const int64_t* labels, const double* dense,    \
                                 int64_t stride, int64_t C, int64_t len, int activation,         \
                                 int64_t ignore_index, const double* g, double* gx);
namespace base {
CVK_MASK_SIMD_DECLS
}
namespace avx2 {
CVK_MASK_SIMD_DECLS
}
namespace avx512 {
void label_bins(const int64_t* p, const int64_t* t, int64_t len, int shift, int64_t ignore_index,
                uint32_t* bins);
}
#undef CVK_MASK_SIMD_DECLS

}  // namespace masks
}  // namespace cvk
