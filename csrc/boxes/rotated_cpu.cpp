// Pairwise IoU of rotated boxes on the CPU (rotated.h): each box prepared once (corners, bounding
// circle), pairs whose circles are apart skipped, rows in parallel.
#include "boxes/rotated_cpu.h"

#include "boxes/rotated.h"
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

template void box_iou_rotated<float>(const float*, int64_t, const float*, int64_t, float*);
template void box_iou_rotated<double>(const double*, int64_t, const double*, int64_t, double*);

}  // namespace boxes
}  // namespace cvk
