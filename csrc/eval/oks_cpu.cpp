// Object keypoint similarity: see oks.h for the definition. One pass per (detection, ground
// truth) pair over the K keypoints; the per-keypoint terms go through numpy's pairwise sum.
#include "eval/oks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace cvk {
namespace eval {
namespace {

// numpy's pairwise summation (what np.sum does on a contiguous float64 array): fewer than 8
// terms in order; up to 128 in eight interleaved partial sums combined as a tree, then the
// tail; longer arrays split in halves (multiples of 8).
double numpy_sum(const double* a, int64_t n) {
  if (n < 8) {
    double r = 0.0;
    for (int64_t i = 0; i < n; ++i) r += a[i];
    return r;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

}  // namespace

void keypoint_oks(const double* dt, int64_t D, const double* gt, int64_t G, const double* gt_box,
                  const double* gt_area, const double* sigmas, int64_t K, double* out) {
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  std::vector<double> vars(K), terms(K);
  for (int64_t k = 0; k < K; ++k) vars[k] = (sigmas[k] * 2) * (sigmas[k] * 2);
  for (int64_t g = 0; g < G; ++g) {
    const double* gk = gt + 3 * K * g;
    int64_t visible = 0;
    for (int64_t k = 0; k < K; ++k) visible += gk[3 * k + 2] > 0;
    const double* b = gt_box + 4 * g;
    const double x0 = b[0] - b[2], x1 = b[0] + b[2] * 2;
    const double y0 = b[1] - b[3], y1 = b[1] + b[3] * 2;
    const double area = gt_area[g] + eps;
    for (int64_t d = 0; d < D; ++d) {
      const double* dk = dt + 3 * K * d;
      int64_t n = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double xd = dk[3 * k], yd = dk[3 * k + 1];
        double dx, dy;
        if (visible > 0) {
          if (!(gk[3 * k + 2] > 0)) continue;
          dx = xd - gk[3 * k];
          dy = yd - gk[3 * k + 1];
        } else {
          dx = std::max(0.0, x0 - xd) + std::max(0.0, xd - x1);
          dy = std::max(0.0, y0 - yd) + std::max(0.0, yd - y1);
        }
        const double e = (dx * dx + dy * dy) / vars[k] / area / 2;
        // exp(-e) is exactly 0 past e = 745.13 (below the smallest subnormal): skip the call,
        // which most pairs of a detection and another person's ground truth take
        terms[n++] = e > 746.0 ? 0.0 : std::exp(-e);
      }
      out[d * G + g] = numpy_sum(terms.data(), n) / static_cast<double>(n);
    }
  }
}

}  // namespace eval
}  // namespace cvk
