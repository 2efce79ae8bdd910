// Host helper of the CPU RoIAlign kernels: the bilinear taps of one RoI, computed once per RoI
// and shared by all its channels (the two axes are independent, see roi_math.h).
#pragma once

#include <vector>

#include "roi/roi_cpu.h"
#include "roi/roi_math.h"

namespace cvk {
namespace roi {

// ys: PH * grid_h taps along y; xs: PW * grid_w taps along x.
template <class T>
void roi_taps(const AlignRoi<T>& g, const Shape& s, std::vector<Tap<T>>& ys,
              std::vector<Tap<T>>& xs) {
  ys.resize(static_cast<size_t>(s.PH * g.grid_h));
  xs.resize(static_cast<size_t>(s.PW * g.grid_w));
  for (int64_t ph = 0; ph < s.PH; ++ph)
    for (int64_t iy = 0; iy < g.grid_h; ++iy)
      ys[ph * g.grid_h + iy] = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), s.H);
  for (int64_t pw = 0; pw < s.PW; ++pw)
    for (int64_t ix = 0; ix < g.grid_w; ++ix)
      xs[pw * g.grid_w + ix] = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), s.W);
}

}  // namespace roi
}  // namespace cvk
