// CenterNet peak decoding (heatmap.h) on the CPU.
//
// Per (image, class) plane, in parallel: a pixel is a peak when it equals the maximum of its
// k x k window (clipped at the borders, as max_pool2d's -inf padding does; the maximum taken
// along rows, then down columns); peaks with a positive
// value are collected as (value, flat index c * H * W + y * W + x). Per image: the K largest by
// nth_element + sort (ties by flat index). When fewer than K values are positive, the rest are
// the zeros (non-peaks and zero peaks) in flat order, then negative peaks in descending order:
// the K largest of the whole suppressed map, as torch.topk of it. O(B C H W k) to find the
// peaks, O(P + K log K) per image to select.
#include "decode/heatmap.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/thread_pool.h"

namespace cvk {
namespace decode {
namespace {

struct Peak {
  double v;
  int64_t flat;
};

bool before(const Peak& a, const Peak& b) { return a.v > b.v || (a.v == b.v && a.flat < b.flat); }

}  // namespace

template <class T>
bool heatmap_peaks(const T* heat, const T* wh, const T* reg, int64_t B, int64_t C, int64_t H, int64_t W,
                   int64_t K, int64_t kernel, T* scores, int64_t* inds, int64_t* classes, T* ys, T* xs, T* boxes) {
  const int64_t HW = H * W, r = kernel / 2;
  // Peaks of every plane: positive ones listed, negative ones listed apart, NaN flagged.
  std::vector<std::vector<Peak>> pos(B * C), neg(B * C);
  std::vector<uint8_t> nan(B * C, 0);
  parallel_for(0, B * C, 1, [&](int64_t p0, int64_t p1) {
    // The window maximum, separably: along each row (rm), then down the columns (wm); plain
    // loops over x that vectorize.
    std::vector<T> rm(HW), wm(W);
    for (int64_t p = p0; p < p1; ++p) {
      const T* h = heat + p * HW;
      const int64_t c = p % C;
      for (int64_t y = 0; y < H; ++y) {
        const T* row = h + y * W;
        T* out = rm.data() + y * W;
        for (int64_t x = 0; x < W; ++x) out[x] = row[x];
        for (int64_t d = 1; d <= r; ++d) {
          for (int64_t x = d; x < W; ++x) out[x] = row[x - d] > out[x] ? row[x - d] : out[x];
          for (int64_t x = 0; x + d < W; ++x) out[x] = row[x + d] > out[x] ? row[x + d] : out[x];
        }
      }
      for (int64_t y = 0; y < H; ++y) {
        const int64_t ya = std::max<int64_t>(0, y - r), yb = std::min<int64_t>(H - 1, y + r);
        std::copy(rm.data() + ya * W, rm.data() + (ya + 1) * W, wm.data());
        for (int64_t yy = ya + 1; yy <= yb; ++yy) {
          const T* o = rm.data() + yy * W;
          for (int64_t x = 0; x < W; ++x) wm[x] = o[x] > wm[x] ? o[x] : wm[x];
        }
        const T* row = h + y * W;
        bool any_nan = false;
        for (int64_t x = 0; x < W; ++x) any_nan |= row[x] != row[x];
        if (any_nan) {
          nan[p] = 1;
          continue;
        }
        for (int64_t x = 0; x < W; ++x) {
          const T v = row[x];
          if (v != wm[x] || v == T(0)) continue;  // not a peak, or a zero peak (among the zeros)
          (v > T(0) ? pos[p] : neg[p]).push_back({static_cast<double>(v), c * HW + y * W + x});
        }
      }
    }
  });
  for (uint8_t f : nan)
    if (f) return false;
  parallel_for_each(B, [&](int64_t b) {
    std::vector<Peak> top;
    for (int64_t c = 0; c < C; ++c) top.insert(top.end(), pos[b * C + c].begin(), pos[b * C + c].end());
    if (static_cast<int64_t>(top.size()) > K) {
      std::nth_element(top.begin(), top.begin() + K, top.end(), before);
      top.resize(K);
    }
    std::sort(top.begin(), top.end(), before);
    if (static_cast<int64_t>(top.size()) < K) {
      // then the zeros in flat order: every element that is not a positive or negative peak
      std::vector<int64_t> taken;
      for (int64_t c = 0; c < C; ++c) {
        for (const Peak& q : pos[b * C + c]) taken.push_back(q.flat);
        for (const Peak& q : neg[b * C + c]) taken.push_back(q.flat);
      }
      std::sort(taken.begin(), taken.end());
      size_t t = 0;
      for (int64_t f = 0; f < C * HW && static_cast<int64_t>(top.size()) < K; ++f) {
        while (t < taken.size() && taken[t] < f) ++t;
        if (t < taken.size() && taken[t] == f) continue;
        top.push_back({0.0, f});
      }
      std::vector<Peak> negs;
      for (int64_t c = 0; c < C; ++c) negs.insert(negs.end(), neg[b * C + c].begin(), neg[b * C + c].end());
      std::sort(negs.begin(), negs.end(), before);
      for (size_t i = 0; i < negs.size() && static_cast<int64_t>(top.size()) < K; ++i) top.push_back(negs[i]);
    }
    for (int64_t k = 0; k < K; ++k) {
      const int64_t o = b * K + k, f = top[k].flat, c = f / HW, i = f % HW, y = i / W, x = i % W;
      scores[o] = static_cast<T>(top[k].v);
      inds[o] = i;
      classes[o] = c;
      const T* wb = wh + b * 2 * HW;
      T cx, cy;
      if (reg != nullptr) {
        const T* rb = reg + b * 2 * HW;
        cx = static_cast<T>(x) + rb[i];
        cy = static_cast<T>(y) + rb[HW + i];
      } else {
        cx = static_cast<T>(x) + T(0.5);
        cy = static_cast<T>(y) + T(0.5);
      }
      xs[o] = cx;
      ys[o] = cy;
      const T w2 = wb[i] / T(2), h2 = wb[HW + i] / T(2);
      boxes[4 * o + 0] = cx - w2;
      boxes[4 * o + 1] = cy - h2;
      boxes[4 * o + 2] = cx + w2;
      boxes[4 * o + 3] = cy + h2;
    }
  });
  return true;
}

template bool heatmap_peaks<float>(const float*, const float*, const float*, int64_t, int64_t, int64_t, int64_t,
                                   int64_t, int64_t, float*, int64_t*, int64_t*, float*, float*, float*);
template bool heatmap_peaks<double>(const double*, const double*, const double*, int64_t, int64_t, int64_t, int64_t,
                                    int64_t, int64_t, double*, int64_t*, int64_t*, double*, double*, double*);

}  // namespace decode
}  // namespace cvk
