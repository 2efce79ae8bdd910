#include "eval/match.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace cvk {
namespace eval {

void match_coco(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
                const uint8_t* crowd, const uint8_t* ignore, int32_t* match,
                uint8_t* dt_ignore) {
  thread_local MatchScratch scratch;
  match_coco(iou, D, G, thrs, T, crowd, ignore, match, dt_ignore, scratch);
}

namespace {

void match_coco_small(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
                      const uint8_t* crowd, const uint8_t* ignore, int32_t* match, uint8_t* dt_ignore) {
  uint64_t crowd_bits = 0, ignore_bits = 0;
  for (int64_t j = 0; j < G; ++j) {
    crowd_bits |= uint64_t(crowd[j] != 0) << j;
    ignore_bits |= uint64_t(ignore[j] != 0) << j;
  }
  match_coco_bits(iou, D, G, thrs, T, crowd_bits, ignore_bits, [&](int64_t t, int64_t d, int64_t m, bool ignored) {
    match[t * D + d] = static_cast<int32_t>(m);
    dt_ignore[t * D + d] = ignored;
  });
}

}  // namespace

void match_coco(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
                const uint8_t* crowd, const uint8_t* ignore, int32_t* match, uint8_t* dt_ignore,
                MatchScratch& scratch) {
  if (G <= kMatchBits && T <= kMatchBits) return match_coco_small(iou, D, G, thrs, T, crowd, ignore, match, dt_ignore);
  std::vector<int64_t>& order = scratch.order;  // regular ground truth first, then ignored
  std::vector<uint8_t>& taken = scratch.taken;
  order.clear();
  for (int64_t j = 0; j < G; ++j)
    if (!ignore[j]) order.push_back(j);
  for (int64_t j = 0; j < G; ++j)
    if (ignore[j]) order.push_back(j);
  taken.assign(static_cast<size_t>(G), 0);
  for (int64_t t = 0; t < T; ++t) {
    std::fill(taken.begin(), taken.end(), 0);
    for (int64_t d = 0; d < D; ++d) {
      match[t * D + d] = -1;
      dt_ignore[t * D + d] = 0;
      double best = std::min(thrs[t], 1 - 1e-10);
      int64_t m = -1;
      for (int64_t j : order) {
        if (taken[j] && !crowd[j]) continue;
        if (m > -1 && !ignore[m] && ignore[j]) break;
        const double o = iou[d * G + j];
        if (o < best) continue;
        best = o;
        m = j;
      }
      if (m == -1) continue;
      match[t * D + d] = static_cast<int32_t>(m);
      dt_ignore[t * D + d] = ignore[m];
      taken[m] = 1;
    }
  }
}

void match_voc(const double* iou, int64_t D, int64_t G, const double* thrs, int64_t T,
               const uint8_t* ignore, int32_t* match, uint8_t* dt_ignore) {
  std::vector<uint8_t> taken(G);
  for (int64_t t = 0; t < T; ++t) {
    std::fill(taken.begin(), taken.end(), 0);
    for (int64_t d = 0; d < D; ++d) {
      match[t * D + d] = -1;
      dt_ignore[t * D + d] = 0;
      int64_t jmax = -1;
      double omax = -1;
      for (int64_t j = 0; j < G; ++j)
        if (iou[d * G + j] > omax) {
          omax = iou[d * G + j];
          jmax = j;
        }
      if (jmax < 0 || !(omax > thrs[t])) continue;  // false positive
      if (ignore[jmax]) {
        dt_ignore[t * D + d] = 1;
      } else if (!taken[jmax]) {
        taken[jmax] = 1;
        match[t * D + d] = static_cast<int32_t>(jmax);
      }  // else a duplicate: false positive
    }
  }
}

}  // namespace eval
}  // namespace cvk
