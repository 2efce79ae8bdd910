// COCO evaluation, pycocotools' algorithm on columnar arrays.
//
// evaluate(): annotations are bucketed by (category, image) with a stable counting sort. For
// each group, in parallel: detections sorted by score (stable, so ties keep dataset order) and
// cut to the largest maxDet; the D x G IoU matrix once; then for each area range the ground
// truth is reordered with ignored ones last and, for each IoU threshold, every detection in
// score order takes the best still-free ground truth with IoU >= threshold (match.h's COCO
// rule). Unmatched detections outside the area range are ignored.
// accumulate(): for each (category, area range, maxDet), the detections of all images are
// merged by score (stable: ties by image order), cumulative true / false positives give
// recall and precision, the precision envelope is sampled at the recall thresholds.
// Cost: O(sum over groups of T * D * G) for matching, O(D log D) per accumulation.
#include "eval/coco_eval.h"
#include "eval/match.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "common/thread_pool.h"

namespace cvk {
namespace eval {

void bbox_iou_xywh(const double* dt, int64_t D, const double* gt, int64_t G,
                   const uint8_t* crowd, double* out) {
  for (int64_t g = 0; g < G; ++g) {
    const double* b = gt + 4 * g;
    const double ga = b[2] * b[3];
    const bool c = crowd != nullptr && crowd[g];
    for (int64_t d = 0; d < D; ++d) {
      const double* a = dt + 4 * d;
      const double da = a[2] * a[3];
      double& o = out[d * G + g];
      o = 0;
      const double w = std::fmin(a[2] + a[0], b[2] + b[0]) - std::fmax(a[0], b[0]);
      if (w <= 0) continue;
      const double h = std::fmin(a[3] + a[1], b[3] + b[1]) - std::fmax(a[1], b[1]);
      if (h <= 0) continue;
      const double i = w * h;
      const double u = c ? da : da + ga - i;
      o = i / u;
    }
  }
}

CocoEval::CocoEval(CocoParams params, int64_t num_images, int64_t num_cats, Annotations gt,
                   Annotations dt)
    : p_(std::move(params)), I_(num_images), K_(num_cats), gt_(gt), dt_(dt) {
  if (p_.area_lo.size() != p_.area_hi.size())
    throw std::invalid_argument("cvkernels: area ranges need a lower and an upper bound");
  std::sort(p_.max_dets.begin(), p_.max_dets.end());
  // Groups: every (cat, img) that has ground truth or detections, in (cat, img) order.
  group_index_.assign(static_cast<size_t>(K_ * I_), -1);
  auto key_of = [&](const Annotations& a, int64_t i) { return a.cat[i] * I_ + a.img[i]; };
  for (const Annotations* side : {&gt_, &dt_})
    for (int64_t i = 0; i < side->n; ++i) {
      const int64_t img = side->img[i], cat = side->cat[i];
      if (img < 0 || img >= I_ || cat < 0 || cat >= K_)
        throw std::invalid_argument("cvkernels: annotation image or category index out of range");
      group_index_[key_of(*side, i)] = 0;
    }
  for (int64_t key = 0; key < K_ * I_; ++key) {
    if (group_index_[key] < 0) continue;
    group_index_[key] = static_cast<int64_t>(group_key_.size());
    group_key_.push_back(key);
  }
  const size_t G = group_key_.size();
  gts_.resize(G);
  dets_.resize(G);
  for (int64_t i = 0; i < gt_.n; ++i) gts_[group_index_[key_of(gt_, i)]].push_back(i);
  for (int64_t i = 0; i < dt_.n; ++i) dets_[group_index_[key_of(dt_, i)]].push_back(i);
  match_.resize(G);
  dt_ignore_.resize(G);
  npig_.resize(G);
}

int64_t CocoEval::group_of(int64_t cat, int64_t img) const {
  if (cat < 0 || cat >= K_ || img < 0 || img >= I_) return -1;
  return group_index_[cat * I_ + img];
}

void CocoEval::evaluate() {
  parallel_for(0, static_cast<int64_t>(group_key_.size()), 16, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) evaluate_group(g);
  });
}

void CocoEval::evaluate_group(int64_t g) {
  const int64_t T = static_cast<int64_t>(p_.iou_thrs.size());
  const int64_t A = static_cast<int64_t>(p_.area_lo.size());
  std::vector<int64_t>& dets = dets_[g];
  const std::vector<int64_t>& gts = gts_[g];
  std::stable_sort(dets.begin(), dets.end(),
                   [&](int64_t a, int64_t b) { return dt_.score[a] > dt_.score[b]; });
  const int64_t max_det = p_.max_dets.empty() ? 0 : p_.max_dets.back();
  if (static_cast<int64_t>(dets.size()) > max_det) dets.resize(static_cast<size_t>(max_det));
  const int64_t D = static_cast<int64_t>(dets.size()), G = static_cast<int64_t>(gts.size());

  std::vector<double> dbox(4 * D), gbox(4 * G), iou(D * G);
  std::vector<uint8_t> crowd(G);
  for (int64_t d = 0; d < D; ++d) std::copy(dt_.box + 4 * dets[d], dt_.box + 4 * dets[d] + 4, &dbox[4 * d]);
  for (int64_t j = 0; j < G; ++j) {
    std::copy(gt_.box + 4 * gts[j], gt_.box + 4 * gts[j] + 4, &gbox[4 * j]);
    crowd[j] = gt_.crowd[gts[j]];
  }
  bbox_iou_xywh(dbox.data(), D, gbox.data(), G, crowd.data(), iou.data());

  match_[g].assign(A, std::vector<int32_t>(T * D, -1));
  dt_ignore_[g].assign(A, std::vector<uint8_t>(T * D, 0));
  npig_[g].assign(A, 0);
  std::vector<uint8_t> ignore(G);
  for (int64_t a = 0; a < A; ++a) {
    const double lo = p_.area_lo[a], hi = p_.area_hi[a];
    for (int64_t j = 0; j < G; ++j) {
      const double ar = gt_.area[gts[j]];
      // pycocotools: ignore = iscrowd, or area outside the range
      ignore[j] = crowd[j] || ar < lo || ar > hi;
      npig_[g][a] += !ignore[j];
    }
    std::vector<int32_t>& match = match_[g][a];
    std::vector<uint8_t>& dig = dt_ignore_[g][a];
    match_coco(iou.data(), D, G, p_.iou_thrs.data(), T, crowd.data(), ignore.data(), match.data(),
               dig.data());
    // Unmatched detections outside the area range are ignored.
    for (int64_t t = 0; t < T; ++t)
      for (int64_t d = 0; d < D; ++d) {
        const double ar = dt_.area[dets[d]];
        if (match[t * D + d] < 0 && (ar < lo || ar > hi)) dig[t * D + d] = 1;
      }
  }
}

std::vector<uint8_t> CocoEval::group_gt_ignore(int64_t g, int64_t a) const {
  const std::vector<int64_t>& gts = gts_[g];
  std::vector<uint8_t> ig(gts.size());
  for (size_t j = 0; j < gts.size(); ++j) {
    const double ar = gt_.area[gts[j]];
    ig[j] = gt_.crowd[gts[j]] || ar < p_.area_lo[a] || ar > p_.area_hi[a];
  }
  return ig;
}

void CocoEval::accumulate(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                          const std::vector<int64_t>& max_dets, const std::vector<int64_t>& images,
                          double* precision, double* recall, double* scores) const {
  const int64_t T = static_cast<int64_t>(p_.iou_thrs.size());
  const int64_t R = static_cast<int64_t>(p_.rec_thrs.size());
  const int64_t K = static_cast<int64_t>(cats.size()), A = static_cast<int64_t>(areas.size());
  const int64_t M = static_cast<int64_t>(max_dets.size());
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  parallel_for_each(K, [&](int64_t ki) {
    const int64_t k = cats[ki];
    std::vector<int64_t> groups;
    for (int64_t i : images) {
      const int64_t g = group_of(k, i);
      if (g >= 0) groups.push_back(g);
    }
    // Detections of every image, each image's cut to maxDet: (group, position in group).
    std::vector<int64_t> sel_g, sel_d, order;
    std::vector<double> sc, rc, pr;
    for (int64_t mi = 0; mi < M; ++mi) {
      const int64_t max_det = max_dets[mi];
      sel_g.clear();
      sel_d.clear();
      for (int64_t g : groups) {
        const int64_t n = std::min<int64_t>(max_det, static_cast<int64_t>(dets_[g].size()));
        for (int64_t d = 0; d < n; ++d) {
          sel_g.push_back(g);
          sel_d.push_back(d);
        }
      }
      const int64_t nd = static_cast<int64_t>(sel_g.size());
      order.resize(nd);
      std::iota(order.begin(), order.end(), int64_t(0));
      auto score_of = [&](int64_t s) { return dt_.score[dets_[sel_g[s]][sel_d[s]]]; };
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t x, int64_t y) { return score_of(x) > score_of(y); });
      sc.resize(nd);
      for (int64_t j = 0; j < nd; ++j) sc[j] = score_of(order[j]);
      rc.resize(nd);
      pr.resize(nd);
      for (int64_t ai = 0; ai < A; ++ai) {
        const int64_t a = areas[ai];
        int64_t npig = 0;
        for (int64_t g : groups) npig += npig_[g][a];
        if (npig == 0) continue;
        for (int64_t t = 0; t < T; ++t) {
          double tp = 0, fp = 0;
          for (int64_t j = 0; j < nd; ++j) {
            const int64_t s = order[j], g = sel_g[s], d = sel_d[s];
            const int64_t D = static_cast<int64_t>(dets_[g].size());
            if (!dt_ignore_[g][a][t * D + d]) {
              if (match_[g][a][t * D + d] >= 0) {
                tp += 1;
              } else {
                fp += 1;
              }
            }
            rc[j] = tp / static_cast<double>(npig);
            pr[j] = tp / (fp + tp + eps);
          }
          const int64_t out_r = ((t * K + ki) * A + ai) * M + mi;  // recall (T, K, A, M)
          recall[out_r] = nd ? rc[nd - 1] : 0.0;
          for (int64_t j = nd - 1; j > 0; --j)
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
          for (int64_t r = 0; r < R; ++r) {
            const int64_t idx =
                std::lower_bound(rc.begin(), rc.begin() + nd, p_.rec_thrs[r]) - rc.begin();
            const int64_t out = (((t * R + r) * K + ki) * A + ai) * M + mi;  // (T, R, K, A, M)
            precision[out] = idx < nd ? pr[idx] : 0.0;
            scores[out] = idx < nd ? sc[idx] : 0.0;
          }
        }
      }
    }
  });
}

}  // namespace eval
}  // namespace cvk
