// Panoptic quality statistics on the CPU: panoptic.h states the algorithm.
#include "panoptic/panoptic.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "common/thread_pool.h"

namespace cvk {
namespace panoptic {
namespace {

struct PairCount {
  int64_t g, p, n;
};

// What one image adds to the totals, kept apart so that the totals are summed in image order.
struct ImageResult {
  std::vector<std::pair<int64_t, double>> matches;  // (category, IoU), in (gt id, pred id) order
  std::vector<int64_t> fn, fp;                      // categories
  std::string error;
};

// Reads the id of pixel i of a map.
template <MapKind kind>
inline int64_t id_at(const void* map, int64_t i) {
  if (kind == MapKind::I32) return static_cast<const int32_t*>(map)[i];
  if (kind == MapKind::I64) return static_cast<const int64_t*>(map)[i];
  const uint8_t* c = static_cast<const uint8_t*>(map) + 3 * i;
  return int64_t(c[0]) + 256 * int64_t(c[1]) + 65536 * int64_t(c[2]);
}

// Step 1: the pixel count of every distinct (gt id, pred id) pair, sorted by pair.
template <MapKind kind>
std::vector<PairCount> pair_counts(const ImagePair& im) {
  std::vector<PairCount> runs;
  for (int64_t r0 = 0; r0 < im.pixels; r0 += im.row) {
    const int64_t r1 = std::min(im.pixels, r0 + im.row);
    int64_t i = r0;
    while (i < r1) {
      const int64_t g = id_at<kind>(im.gt_map, i), p = id_at<kind>(im.pred_map, i);
      int64_t j = i + 1;
      while (j < r1 && id_at<kind>(im.gt_map, j) == g && id_at<kind>(im.pred_map, j) == p) ++j;
      runs.push_back({g, p, j - i});
      i = j;
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const PairCount& a, const PairCount& b) { return a.g < b.g || (a.g == b.g && a.p < b.p); });
  std::vector<PairCount> pairs;
  for (const PairCount& r : runs) {
    if (!pairs.empty() && pairs.back().g == r.g && pairs.back().p == r.p)
      pairs.back().n += r.n;
    else
      pairs.push_back(r);
  }
  return pairs;
}

ImageResult evaluate_image(const ImagePair& im) {
  ImageResult res;
  const std::vector<PairCount> pairs = im.kind == MapKind::I32   ? pair_counts<MapKind::I32>(im)
                                       : im.kind == MapKind::I64 ? pair_counts<MapKind::I64>(im)
                                                                 : pair_counts<MapKind::RGB>(im);
  std::unordered_map<int64_t, int64_t> gt_at, pred_at;  // id -> row of its table
  for (int64_t k = 0; k < im.n_gt; ++k)
    if (!gt_at.emplace(im.gt_id[k], k).second) {
      res.error = "the ground truth's segments_info lists segment id " + std::to_string(im.gt_id[k]) + " twice";
      return res;
    }
  for (int64_t k = 0; k < im.n_pred; ++k)
    if (!pred_at.emplace(im.pred_id[k], k).second) {
      res.error = "the prediction's segments_info lists segment id " + std::to_string(im.pred_id[k]) + " twice";
      return res;
    }
  // Step 2: predicted areas, and the pixels each prediction has on void.
  std::vector<int64_t> pred_area(static_cast<size_t>(im.n_pred), 0), pred_void(static_cast<size_t>(im.n_pred), 0);
  for (const PairCount& pc : pairs) {
    auto it = pred_at.find(pc.p);
    if (it == pred_at.end()) {
      if (pc.p == 0) continue;
      res.error = "segment id " + std::to_string(pc.p) + " is on the predicted map but not in its segments_info";
      return res;
    }
    pred_area[it->second] += pc.n;
    if (pc.g == 0) pred_void[it->second] += pc.n;
  }
  for (int64_t k = 0; k < im.n_pred; ++k)
    if (pred_area[k] == 0) {
      res.error = "segment id " + std::to_string(im.pred_id[k]) + " is in the prediction's segments_info but not on its map";
      return res;
    }
  // Step 3: matches (IoU > 0.5 makes them unique).
  std::vector<char> gt_matched(static_cast<size_t>(im.n_gt), 0), pred_matched(static_cast<size_t>(im.n_pred), 0);
  for (const PairCount& pc : pairs) {
    auto g = gt_at.find(pc.g), p = pred_at.find(pc.p);
    if (g == gt_at.end() || p == pred_at.end()) continue;
    const int64_t gi = g->second, pi = p->second;
    if (im.gt_crowd[gi] || im.gt_cat[gi] != im.pred_cat[pi]) continue;
    const double uni = double(pred_area[pi]) + im.gt_area[gi] - double(pc.n) - double(pred_void[pi]);
    const double iou = double(pc.n) / uni;
    if (iou > 0.5) {
      res.matches.emplace_back(im.gt_cat[gi], iou);
      gt_matched[gi] = 1;
      pred_matched[pi] = 1;
    }
  }
  // Step 4: misses; the crowd region of a category is its last crowd segment in the table.
  std::unordered_map<int64_t, int64_t> crowd_of;  // category -> crowd gt id
  for (int64_t k = 0; k < im.n_gt; ++k) {
    if (gt_matched[k]) continue;
    if (im.gt_crowd[k])
      crowd_of[im.gt_cat[k]] = im.gt_id[k];
    else
      res.fn.push_back(im.gt_cat[k]);
  }
  auto count_of = [&](int64_t g, int64_t p) -> int64_t {
    auto it = std::lower_bound(pairs.begin(), pairs.end(), PairCount{g, p, 0}, [](const PairCount& a, const PairCount& b) {
      return a.g < b.g || (a.g == b.g && a.p < b.p);
    });
    return (it != pairs.end() && it->g == g && it->p == p) ? it->n : 0;
  };
  for (int64_t k = 0; k < im.n_pred; ++k) {
    if (pred_matched[k]) continue;
    int64_t inter = pred_void[k];
    auto c = crowd_of.find(im.pred_cat[k]);
    if (c != crowd_of.end()) inter += count_of(c->second, im.pred_id[k]);
    if (double(inter) / double(pred_area[k]) > 0.5) continue;
    res.fp.push_back(im.pred_cat[k]);
  }
  return res;
}

}  // namespace

std::string pq_stats(const std::vector<ImagePair>& images, int64_t num_categories, int64_t* tp, int64_t* fp,
                     int64_t* fn, double* iou) {
  std::vector<ImageResult> results(images.size());
  parallel_for_each(static_cast<int64_t>(images.size()), [&](int64_t i) { results[i] = evaluate_image(images[i]); });
  std::fill(tp, tp + num_categories, 0);
  std::fill(fp, fp + num_categories, 0);
  std::fill(fn, fn + num_categories, 0);
  std::fill(iou, iou + num_categories, 0.0);
  for (size_t i = 0; i < results.size(); ++i) {
    const ImageResult& r = results[i];
    if (!r.error.empty()) return "image " + std::to_string(i) + ": " + r.error;
    for (const auto& m : r.matches) {
      ++tp[m.first];
      iou[m.first] += m.second;
    }
    for (int64_t c : r.fn) ++fn[c];
    for (int64_t c : r.fp) ++fp[c];
  }
  return std::string();
}

}  // namespace panoptic
}  // namespace cvk
