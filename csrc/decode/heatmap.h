// Dense decoding without NMS (CenterNet, "Objects as Points"): the peaks of (B, C, H, W)
// heatmaps as the torch expression CenterNet runs defines them,
//   v = heat * (max_pool2d(heat, k, stride 1, padding k/2) == heat)      (a peak keeps its value,
//                                                                       everything else is 0)
//   the K largest v of each image over (C, H, W), in descending order,
// then boxes from the size map wh (B, 2, H, W) and the offset map reg (B, 2, H, W) at each
// peak: center (x + reg_x, y + reg_y) (x + 0.5, y + 0.5 without reg), corners center -+ wh / 2.
#pragma once

#include <cstdint>

namespace cvk {
namespace decode {

// heat (B, C, H, W), wh / reg (B, 2, H, W) (reg may be null); outputs (B, K): scores, flat
// spatial index y * W + x, classes, ys, xs (centers, as floats), boxes (B, K, 4) x1 y1 x2 y2.
// Equal values are ordered by (class, y, x): torch.topk leaves their order unspecified.
// K <= C * H * W. Returns false (nothing written) when heat holds a NaN.
template <class T>
bool heatmap_peaks(const T* heat, const T* wh, const T* reg, int64_t B, int64_t C, int64_t H, int64_t W,
                   int64_t K, int64_t kernel, T* scores, int64_t* inds, int64_t* classes, T* ys, T* xs, T* boxes);

}  // namespace decode
}  // namespace cvk
