// Channels-last (NHWC) RoI kernels, compiled for baseline x86-64 (roi_cpu.cpp) and for AVX2
// (roi_avx2.cpp); CVK_SIMD_NS names the copy. With channels contiguous, every bilinear tap
// (RoIAlign) or window pixel (RoIPool) is one contiguous run of C values, and the innermost
// loops run across channels, 8 floats per AVX2 register. Each channel does exactly the
// operations torchvision does for it, in the same order, so results are the same bits.
#include <float.h>

#include <vector>

#include "roi/roi_cpu.h"
#include "roi/roi_math.h"
#include "roi/roi_taps.h"

namespace cvk {
namespace roi {
namespace CVK_SIMD_NS {
namespace {

template <class T>
void align_roi_impl(const T* input, const T* roi, Shape s, T scale, int64_t sr, bool aligned,
                    T* tile) {
  const AlignRoi<T> g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
  std::vector<Tap<T>> ys, xs;
  roi_taps(g, s, ys, xs);
  const int64_t b = static_cast<int64_t>(roi[0]);
  const int64_t C = s.C;
  for (int64_t ph = 0; ph < s.PH; ++ph)
    for (int64_t pw = 0; pw < s.PW; ++pw) {
      T* __restrict__ acc = tile + (ph * s.PW + pw) * C;
      for (int64_t c = 0; c < C; ++c) acc[c] = T(0);
      for (int64_t iy = 0; iy < g.grid_h; ++iy) {
        const Tap<T> ty = ys[ph * g.grid_h + iy];
        if (!ty.valid) continue;
        for (int64_t ix = 0; ix < g.grid_w; ++ix) {
          const Tap<T> tx = xs[pw * g.grid_w + ix];
          if (!tx.valid) continue;
          const T w1 = ty.h * tx.h, w2 = ty.h * tx.l, w3 = ty.l * tx.h, w4 = ty.l * tx.l;
          const T* __restrict__ p1 = input + ((b * s.H + ty.lo) * s.W + tx.lo) * C;
          const T* __restrict__ p2 = input + ((b * s.H + ty.lo) * s.W + tx.hi) * C;
          const T* __restrict__ p3 = input + ((b * s.H + ty.hi) * s.W + tx.lo) * C;
          const T* __restrict__ p4 = input + ((b * s.H + ty.hi) * s.W + tx.hi) * C;
          for (int64_t c = 0; c < C; ++c)
            acc[c] += w1 * p1[c] + w2 * p2[c] + w3 * p3[c] + w4 * p4[c];
        }
      }
      for (int64_t c = 0; c < C; ++c) acc[c] /= g.count;
    }
}

template <class T>
void align_backward_impl(const T* grad_tiles, const T* rois, Shape s, T scale, int64_t sr,
                         bool aligned, int64_t c0, int64_t c1, T* grad_input) {
  std::vector<Tap<T>> ys, xs;
  const int64_t C = s.C;
  for (int64_t k = 0; k < s.K; ++k) {
    const T* roi = rois + 5 * k;
    const AlignRoi<T> g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
    if (g.grid_h * g.grid_w == 0) continue;
    roi_taps(g, s, ys, xs);
    const T count = static_cast<T>(g.grid_h * g.grid_w);
    const int64_t b = static_cast<int64_t>(roi[0]);
    for (int64_t ph = 0; ph < s.PH; ++ph)
      for (int64_t pw = 0; pw < s.PW; ++pw) {
        const T* __restrict__ gb = grad_tiles + ((k * s.PH + ph) * s.PW + pw) * C;
        for (int64_t iy = 0; iy < g.grid_h; ++iy) {
          const Tap<T> ty = ys[ph * g.grid_h + iy];
          if (!ty.valid) continue;
          for (int64_t ix = 0; ix < g.grid_w; ++ix) {
            const Tap<T> tx = xs[pw * g.grid_w + ix];
            if (!tx.valid) continue;
            const T w1 = ty.h * tx.h, w2 = ty.h * tx.l, w3 = ty.l * tx.h, w4 = ty.l * tx.l;
            T* p1 = grad_input + ((b * s.H + ty.lo) * s.W + tx.lo) * C;
            T* p2 = grad_input + ((b * s.H + ty.lo) * s.W + tx.hi) * C;
            T* p3 = grad_input + ((b * s.H + ty.hi) * s.W + tx.lo) * C;
            T* p4 = grad_input + ((b * s.H + ty.hi) * s.W + tx.hi) * C;
            // The four taps may be the same pixel (clamped at the border): keep the adds in
            // torchvision's order, one tap after the other.
            for (int64_t c = c0; c < c1; ++c) p1[c] += gb[c] * w1 / count;
            for (int64_t c = c0; c < c1; ++c) p2[c] += gb[c] * w2 / count;
            for (int64_t c = c0; c < c1; ++c) p3[c] += gb[c] * w3 / count;
            for (int64_t c = c0; c < c1; ++c) p4[c] += gb[c] * w4 / count;
          }
        }
      }
  }
}

template <class T>
void pool_roi_impl(const T* input, const T* roi, Shape s, T scale, T* tile, int32_t* arg_tile) {
  const int64_t b = static_cast<int64_t>(roi[0]);
  const int64_t C = s.C;
  for (int64_t ph = 0; ph < s.PH; ++ph)
    for (int64_t pw = 0; pw < s.PW; ++pw) {
      const PoolBin bin = pool_bin(roi, scale, s.H, s.W, s.PH, s.PW, ph, pw);
      T* __restrict__ mx = tile + (ph * s.PW + pw) * C;
      int32_t* __restrict__ ag = arg_tile + (ph * s.PW + pw) * C;
      const T init = bin.empty ? T(0) : T(-FLT_MAX);  // torchvision's -FLT_MAX, also in double
      for (int64_t c = 0; c < C; ++c) {
        mx[c] = init;
        ag[c] = -1;
      }
      for (int64_t h = bin.hs; h < bin.he; ++h)
        for (int64_t w = bin.ws; w < bin.we; ++w) {
          const T* __restrict__ p = input + ((b * s.H + h) * s.W + w) * C;
          const int32_t idx = static_cast<int32_t>(h * s.W + w);
          for (int64_t c = 0; c < C; ++c) {  // strict >: the first maximum in scan order
            const bool more = p[c] > mx[c];
            mx[c] = more ? p[c] : mx[c];
            ag[c] = more ? idx : ag[c];
          }
        }
    }
}

}  // namespace

#define CVK_ROI_SIMD_DEFS(T)                                                                     \
  void align_roi_nhwc(const T* input, const T* roi, Shape s, T scale, int64_t sampling_ratio,    \
                      bool aligned, T* tile) {                                                   \
    align_roi_impl<T>(input, roi, s, scale, sampling_ratio, aligned, tile);                      \
  }                                                                                              \
  void align_backward_nhwc(const T* grad_tiles, const T* rois, Shape s, T scale,                 \
                           int64_t sampling_ratio, bool aligned, int64_t c0, int64_t c1,         \
                           T* grad_input) {                                                      \
    align_backward_impl<T>(grad_tiles, rois, s, scale, sampling_ratio, aligned, c0, c1,          \
                           grad_input);                                                          \
  }                                                                                              \
  void pool_roi_nhwc(const T* input, const T* roi, Shape s, T scale, T* tile, int32_t* arg_tile) { \
    pool_roi_impl<T>(input, roi, s, scale, tile, arg_tile);                                      \
  }
CVK_ROI_SIMD_DEFS(float)
CVK_ROI_SIMD_DEFS(double)
#undef CVK_ROI_SIMD_DEFS

}  // namespace CVK_SIMD_NS
}  // namespace roi
}  // namespace cvk
