// Pairwise IoU of rotated boxes on the CPU (rotated.h): each box prepared once (corners, bounding
// circle), pairs whose circles are apart skipped, rows in parallel.
#include "boxes/rotated_cpu.h"

#include "boxes/rotated.h"
#include <algorithm>
#include <vector>

#include "common/thread_pool.h"

namespace cvk {
namespace boxes {

template <class T>
void box_iou_rotated(const T* a, int64_t n, const T* b, int64_t m, T* out) {
  // Each box's corners and bounding circle once, then every pair.
  auto prepare = [](const T* x) {
    double d[5];
    for (int k = 0; k < 5; ++k) d[k] = static_cast<double>(x[k]);
    return rotated_box(d);
  };
  std::vector<RotBox> bb(static_cast<size_t>(m));
  parallel_for(0, m, 256, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) bb[j] = prepare(b + 5 * j);
  });
  parallel_for(0, n, 8, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const RotBox ai = prepare(a + 5 * i);
      for (int64_t j = 0; j < m; ++j) out[i * m + j] = static_cast<T>(rotated_iou(ai, bb[j]));
    }
  });
}

template <class T>
int64_t nms_rotated(const T* boxes, const T* scores, const int64_t* idxs, int64_t n, double threshold,
                    int64_t* keep) {
  // Visiting order: descending score, ties by index; NaN scores last.
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    const T a = scores[x], b = scores[y];
    if (a != a) return false;
    if (b != b) return true;
    return a > b;
  });
  std::vector<RotBox> rb(static_cast<size_t>(n));
  parallel_for(0, n, 256, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      double d[5];
      for (int k = 0; k < 5; ++k) d[k] = static_cast<double>(boxes[5 * i + k]);
      rb[i] = rotated_box(d);
    }
  });
  std::vector<uint8_t> removed(static_cast<size_t>(n), 0);
  int64_t k = 0;
  for (int64_t a = 0; a < n; ++a) {
    const int64_t i = order[a];
    if (removed[i]) continue;
    keep[k++] = i;
    // suppress what overlaps the kept box by more than the threshold (same class when batched)
    parallel_for(a + 1, n, 1024, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t j = order[b];
        if (removed[j] || (idxs != nullptr && idxs[j] != idxs[i])) continue;
        if (rotated_iou(rb[i], rb[j]) > threshold) removed[j] = 1;
      }
    });
  }
  return k;
}

template int64_t nms_rotated<float>(const float*, const float*, const int64_t*, int64_t, double, int64_t*);
template int64_t nms_rotated<double>(const double*, const double*, const int64_t*, int64_t, double, int64_t*);
template void box_iou_rotated<float>(const float*, int64_t, const float*, int64_t, float*);
template void box_iou_rotated<double>(const double*, int64_t, const double*, int64_t, double*);

}  // namespace boxes
}  // namespace cvk
