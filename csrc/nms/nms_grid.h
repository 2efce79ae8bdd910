// A uniform grid over boxes, for the CPU NMS kernels: it answers "which stored boxes could
// overlap this one" by looking only at the cells the box covers.
//
// Why it is exact: IoU > t with t >= 0 needs a positive-area intersection (otherwise the IoU
// is 0, -0 or NaN), and two boxes that intersect share a point, hence a cell. Boxes with a
// non-finite coordinate have an IoU of 0 or NaN with everything, so they never suppress and are
// never suppressed: the grid ignores them. A box that would cover more than kMaxCells cells is
// kept in a short "everywhere" list instead, and a query box that big checks every stored box.
// With t < 0 every pair can suppress, so the grid runs in brute mode: every query checks every
// stored box. Cell size is the median box size, so a typical box covers at most 4 cells and a
// query costs the number of stored boxes near it, not the number stored.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "boxes/box_math.h"

namespace cvk {
namespace nms {

template <class T>
using Box = boxes::BoxInfo<T>;

template <class T>
inline bool finite_box(const Box<T>& b) {
  return std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2);
}

// IoU of a stored (earlier, higher-ranked) box `a` and a candidate `b`: box_iou's arithmetic.
template <class T>
inline T iou(const Box<T>& a, const Box<T>& b) {
  return boxes::pair_value<boxes::PairKind::IoU>(a, b, T(0));
}

template <class T>
class Grid {
 public:
  static constexpr int64_t kMaxCells = 64;

  Grid(const Box<T>* boxes, int64_t n, bool brute) : brute_(brute) {
    if (brute_) return;
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    std::vector<double> sizes;
    const int64_t stride = std::max<int64_t>(1, n / 4096);
    for (int64_t i = 0; i < n; ++i) {
      const Box<T>& b = boxes[i];
      if (!finite_box(b) || !(b.x1 <= b.x2) || !(b.y1 <= b.y2)) continue;
      minx = std::min(minx, double(b.x1));
      miny = std::min(miny, double(b.y1));
      maxx = std::max(maxx, double(b.x2));
      maxy = std::max(maxy, double(b.y2));
      if (i % stride == 0) sizes.push_back(std::max(double(b.x2 - b.x1), double(b.y2 - b.y1)));
    }
    if (sizes.empty()) return;  // nothing can overlap anything: zero cells
    if (!std::isfinite(maxx - minx) || !std::isfinite(maxy - miny)) {
      brute_ = true;  // coordinates near the float limits: the extent overflows, so no grid
      return;
    }
    std::nth_element(sizes.begin(), sizes.begin() + sizes.size() / 2, sizes.end());
    const double extent = std::max(maxx - minx, maxy - miny);
    double cell = std::max({sizes[sizes.size() / 2], extent / 1024, 1e-30});
    for (;;) {
      gx_ = static_cast<int64_t>((maxx - minx) / cell) + 1;
      gy_ = static_cast<int64_t>((maxy - miny) / cell) + 1;
      if (gx_ * gy_ <= 4 * n + 64) break;
      cell *= 2;
    }
    x0_ = minx;
    y0_ = miny;
    inv_ = 1.0 / cell;
    head_.assign(static_cast<size_t>(gx_ * gy_), -1);
  }

  // Stores box `item` (an index into the caller's array).
  void insert(int32_t item, const Box<T>& b) {
    if (brute_) {
      all_.push_back(item);
      return;
    }
    if (!finite_box(b)) return;  // never suppresses anything
    all_.push_back(item);
    int64_t c0, r0, c1, r1;
    if (!cells(b, c0, r0, c1, r1)) return;  // invalid (x2 < x1): no positive-area overlap
    if ((c1 - c0 + 1) * (r1 - r0 + 1) > kMaxCells) {
      everywhere_.push_back(item);
      return;
    }
    for (int64_t r = r0; r <= r1; ++r)
      for (int64_t c = c0; c <= c1; ++c) {
        const int64_t cell = r * gx_ + c;
        next_.push_back(head_[cell]);
        items_.push_back(item);
        head_[cell] = static_cast<int32_t>(items_.size() - 1);
      }
  }

  // Calls f(item) for the stored boxes that could overlap b (an item may come more than once)
  // until f returns true; returns whether it did.
  template <class F>
  bool any_near(const Box<T>& b, F&& f) const {
    if (brute_) {
      for (int32_t it : all_)
        if (f(it)) return true;
      return false;
    }
    if (!finite_box(b)) return false;
    int64_t c0, r0, c1, r1;
    if (!cells(b, c0, r0, c1, r1)) return false;
    if ((c1 - c0 + 1) * (r1 - r0 + 1) > kMaxCells) {
      for (int32_t it : all_)
        if (f(it)) return true;
      return false;
    }
    for (int32_t it : everywhere_)
      if (f(it)) return true;
    for (int64_t r = r0; r <= r1; ++r)
      for (int64_t c = c0; c <= c1; ++c)
        for (int32_t e = head_[r * gx_ + c]; e >= 0; e = next_[e])
          if (f(items_[e])) return true;
    return false;
  }

 private:
  bool cells(const Box<T>& b, int64_t& c0, int64_t& r0, int64_t& c1, int64_t& r1) const {
    if (head_.empty() || !(b.x1 <= b.x2) || !(b.y1 <= b.y2)) return false;
    c0 = clamp_cell((double(b.x1) - x0_) * inv_, gx_);
    c1 = clamp_cell((double(b.x2) - x0_) * inv_, gx_);
    r0 = clamp_cell((double(b.y1) - y0_) * inv_, gy_);
    r1 = clamp_cell((double(b.y2) - y0_) * inv_, gy_);
    return true;
  }
  static int64_t clamp_cell(double v, int64_t g) {
    if (!(v > 0)) return 0;
    if (v >= double(g - 1)) return g - 1;
    return static_cast<int64_t>(v);
  }

  bool brute_;
  double x0_ = 0, y0_ = 0, inv_ = 1;
  int64_t gx_ = 0, gy_ = 0;
  std::vector<int32_t> head_, next_, items_, everywhere_, all_;
};

}  // namespace nms
}  // namespace cvk
