// CPU entry points of RoIAlign and RoIPool. input / grad_input are (N, C, H, W) when
// channels_last is false, (N, H, W, C) when true; rois (K, 5) as (batch, x1, y1, x2, y2) with
// batch indices already checked to lie in [0, N); output / grad_output (K, C, PH, PW)
// contiguous; argmax (K, C, PH, PW) int32 (-1: empty bin). dtype 0 float32, 1 float64.
#pragma once

#include <cstdint>

namespace cvk {
namespace roi {

struct Shape {
  int64_t N, C, H, W, K, PH, PW;
};

// out_rows (K) int64, or null: RoI k writes output row out_rows[k] (else row k); the output
// then has any number of rows (the binding checks the rows).
void roi_align_forward_cpu(int dtype, const void* input, bool channels_last, const void* rois,
                           Shape s, double scale, int64_t sampling_ratio, bool aligned,
                           const int64_t* out_rows, void* output);
// grad_input is written whole (zeros where nothing flows).
void roi_align_backward_cpu(int dtype, const void* grad_output, const void* rois, Shape s,
                            double scale, int64_t sampling_ratio, bool aligned,
                            bool channels_last, void* grad_input);
void roi_pool_forward_cpu(int dtype, const void* input, bool channels_last, const void* rois,
                          Shape s, double scale, void* output, int32_t* argmax);
void roi_pool_backward_cpu(int dtype, const void* grad_output, const int32_t* argmax,
                           const void* rois, Shape s, bool channels_last, void* grad_input);

// SIMD-dispatched inner kernels (roi_simd_impl.h), one copy per instruction set: one RoI (or
// one channel range) of the channels-last algorithms, vectorized across channels.
#define CVK_ROI_SIMD_DECLS(T)                                                                    \
  void align_roi_nhwc(const T* input, const T* roi, Shape s, T scale, int64_t sampling_ratio,    \
                      bool aligned, T* tile);                                                    \
  void align_backward_nhwc(const T* grad_tiles, const T* rois, Shape s, T scale,                 \
                           int64_t sampling_ratio, bool aligned, int64_t c0, int64_t c1,         \
                           T* grad_input);                                                       \
  void pool_roi_nhwc(const T* input, const T* roi, Shape s, T scale, T* tile, int32_t* arg_tile);
namespace base {
CVK_ROI_SIMD_DECLS(float)
CVK_ROI_SIMD_DECLS(double)
}
namespace avx2 {
CVK_ROI_SIMD_DECLS(float)
CVK_ROI_SIMD_DECLS(double)
}
#undef CVK_ROI_SIMD_DECLS

}  // namespace roi
}  // namespace cvk
