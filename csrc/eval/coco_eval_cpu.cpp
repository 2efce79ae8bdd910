// COCO evaluation, pycocotools' algorithm on columnar arrays.
//
// evaluate(): annotations are bucketed by (category, image) with a stable counting sort. For
// each group, in parallel: detections sorted by score (stable, so ties keep dataset order) and
// cut to the largest maxDet; the D x G IoU matrix once; then for each area range the ground
// truth is reordered with ignored ones last and, for each IoU threshold, every detection in
// score order takes the best still-free ground truth with IoU >= threshold (match.h's COCO
// rule). Unmatched detections outside the area range are ignored.
// accumulate(): for each category the detections of all images are merged by score once
// (stable: ties by image order); for each maxDet, area range and IoU threshold, cumulative
// true / false positives give recall and precision, and the precision envelope is sampled at
// the recall thresholds, as numpy does it in pycocotools (same divisions, same values).
// Cost: O(sum over groups of T * D * G) for matching, O(D log D + A*T*M*D) to accumulate.
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
  T_ = static_cast<int64_t>(p_.iou_thrs.size());
  A_ = static_cast<int64_t>(p_.area_lo.size());
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
  int64_t G = 0;
  for (int64_t key = 0; key < K_ * I_; ++key)
    if (group_index_[key] >= 0) group_index_[key] = G++;
  // Stable counting sort of each side into its groups.
  auto bucket = [&](const Annotations& a, std::vector<int64_t>& start, std::vector<int64_t>& idx) {
    start.assign(static_cast<size_t>(G + 1), 0);
    for (int64_t i = 0; i < a.n; ++i) ++start[group_index_[key_of(a, i)] + 1];
    for (int64_t g = 0; g < G; ++g) start[g + 1] += start[g];
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    idx.resize(static_cast<size_t>(a.n));
    for (int64_t i = 0; i < a.n; ++i) idx[fill[group_index_[key_of(a, i)]]++] = i;
  };
  bucket(gt_, gt_start_, gt_idx_);
  bucket(dt_, dt_start_, dt_idx_);
  const int64_t max_det = p_.max_dets.empty() ? 0 : p_.max_dets.back();
  dt_keep_.resize(G);
  res_off_.assign(static_cast<size_t>(G + 1), 0);
  for (int64_t g = 0; g < G; ++g) {
    dt_keep_[g] = std::min(max_det, dt_start_[g + 1] - dt_start_[g]);
    res_off_[g + 1] = res_off_[g] + dt_keep_[g];
  }
  npig_.assign(static_cast<size_t>(G * A_), 0);
}

int64_t CocoEval::group_of(int64_t cat, int64_t img) const {
  if (cat < 0 || cat >= K_ || img < 0 || img >= I_) return -1;
  return group_index_[cat * I_ + img];
}

std::vector<int64_t> CocoEval::group_dets(int64_t g) const {
  return {dt_idx_.begin() + dt_start_[g], dt_idx_.begin() + dt_start_[g] + num_dets(g)};
}

std::vector<int64_t> CocoEval::group_gts(int64_t g) const {
  return {gt_idx_.begin() + gt_start_[g], gt_idx_.begin() + gt_start_[g + 1]};
}

std::vector<int32_t> CocoEval::group_match(int64_t g, int64_t a) const {
  const int64_t at = result_at(g, a, 0);
  return {match_.begin() + at, match_.begin() + at + T_ * num_dets(g)};
}

std::vector<uint8_t> CocoEval::group_dt_ignore(int64_t g, int64_t a) const {
  const int64_t at = result_at(g, a, 0);
  return {dt_ignore_.begin() + at, dt_ignore_.begin() + at + T_ * num_dets(g)};
}

std::vector<uint8_t> CocoEval::group_gt_ignore(int64_t g, int64_t a) const {
  std::vector<uint8_t> ig;
  for (int64_t j = gt_start_[g]; j < gt_start_[g + 1]; ++j) {
    const int64_t i = gt_idx_[j];
    ig.push_back(gt_.crowd[i] || gt_.area[i] < p_.area_lo[a] || gt_.area[i] > p_.area_hi[a]);
  }
  return ig;
}

void CocoEval::evaluate() {
  const int64_t total = res_off_.back() * A_ * T_;
  match_.assign(static_cast<size_t>(total), -1);
  dt_ignore_.assign(static_cast<size_t>(total), 0);
  const int64_t G = static_cast<int64_t>(dt_keep_.size());
  parallel_for(0, G, 64, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) evaluate_group(g);
  });
}

void CocoEval::evaluate_group(int64_t g) {
  const int64_t T = T_, A = A_;
  int64_t* dets = dt_idx_.data() + dt_start_[g];
  std::stable_sort(dets, dets + (dt_start_[g + 1] - dt_start_[g]),
                   [&](int64_t a, int64_t b) { return dt_.score[a] > dt_.score[b]; });
  const int64_t* gts = gt_idx_.data() + gt_start_[g];
  const int64_t D = num_dets(g), G = gt_start_[g + 1] - gt_start_[g];
  // Scratch reused across the groups a thread evaluates (no allocation per group).
  thread_local std::vector<double> dbox, gbox, iou;
  thread_local std::vector<uint8_t> crowd, ignore;
  dbox.resize(4 * D);
  gbox.resize(4 * G);
  iou.resize(D * G);
  crowd.resize(G);
  ignore.resize(G);
  for (int64_t d = 0; d < D; ++d) std::copy(dt_.box + 4 * dets[d], dt_.box + 4 * dets[d] + 4, &dbox[4 * d]);
  for (int64_t j = 0; j < G; ++j) {
    std::copy(gt_.box + 4 * gts[j], gt_.box + 4 * gts[j] + 4, &gbox[4 * j]);
    crowd[j] = gt_.crowd[gts[j]];
  }
  bbox_iou_xywh(dbox.data(), D, gbox.data(), G, crowd.data(), iou.data());
  for (int64_t a = 0; a < A; ++a) {
    const double lo = p_.area_lo[a], hi = p_.area_hi[a];
    int64_t npig = 0;
    for (int64_t j = 0; j < G; ++j) {
      const double ar = gt_.area[gts[j]];
      // pycocotools: ignore = iscrowd, or area outside the range
      ignore[j] = crowd[j] || ar < lo || ar > hi;
      npig += !ignore[j];
    }
    npig_[g * A + a] = npig;
    int32_t* match = match_.data() + result_at(g, a, 0);
    uint8_t* dig = dt_ignore_.data() + result_at(g, a, 0);
    match_coco(iou.data(), D, G, p_.iou_thrs.data(), T, crowd.data(), ignore.data(), match, dig);
    // Unmatched detections outside the area range are ignored.
    for (int64_t t = 0; t < T; ++t)
      for (int64_t d = 0; d < D; ++d) {
        const double ar = dt_.area[dets[d]];
        if (match[t * D + d] < 0 && (ar < lo || ar > hi)) dig[t * D + d] = 1;
      }
  }
}

void CocoEval::accumulate(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                          const std::vector<int64_t>& max_dets, const std::vector<int64_t>& images,
                          double* precision, double* recall, double* scores) const {
  const int64_t T = static_cast<int64_t>(p_.iou_thrs.size());
  const int64_t R = static_cast<int64_t>(p_.rec_thrs.size());
  const int64_t K = static_cast<int64_t>(cats.size()), A = static_cast<int64_t>(areas.size());
  const int64_t M = static_cast<int64_t>(max_dets.size());
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  const int64_t cap = max_dets.empty() ? 0 : *std::max_element(max_dets.begin(), max_dets.end());
  parallel_for_each(K, [&](int64_t ki) {
    const int64_t k = cats[ki];
    std::vector<int64_t> groups;
    for (int64_t i : images) {
      const int64_t g = group_of(k, i);
      if (g >= 0) groups.push_back(g);
    }
    // Every detection of the category (each image's cut to the largest maxDet), merged by
    // score once: a stable sort, so ties keep image order, then score order inside an image.
    // A smaller maxDet keeps the detections of rank < maxDet in their image, in this order.
    struct Det {
      double score;
      int32_t g, d;
    };
    std::vector<Det> all;
    for (int64_t g : groups) {
      const int64_t n = std::min<int64_t>(cap, num_dets(g));
      for (int64_t d = 0; d < n; ++d)
        all.push_back({dt_.score[dt_idx_[dt_start_[g] + d]], static_cast<int32_t>(g),
                       static_cast<int32_t>(d)});
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const Det& x, const Det& y) { return x.score > y.score; });
    std::vector<double> sc, tp_prec;
    std::vector<int64_t> tp_pos, need(R);
    std::vector<uint8_t> state;  // per (area, threshold, detection): 0 ignored, 1 tp, 2 fp
    for (int64_t mi = 0; mi < M; ++mi) {
      std::vector<const Det*> sel;
      for (const Det& x : all)
        if (x.d < max_dets[mi]) sel.push_back(&x);
      const int64_t nd = static_cast<int64_t>(sel.size());
      sc.resize(nd);
      for (int64_t j = 0; j < nd; ++j) sc[j] = sel[j]->score;
      state.assign(static_cast<size_t>(A * T * nd), 0);
      for (int64_t j = 0; j < nd; ++j) {
        const int64_t g = sel[j]->g, d = sel[j]->d;
        const int64_t D = num_dets(g);
        for (int64_t ai = 0; ai < A; ++ai) {
          const int32_t* match = match_.data() + result_at(g, areas[ai], 0);
          const uint8_t* ign = dt_ignore_.data() + result_at(g, areas[ai], 0);
          for (int64_t t = 0; t < T; ++t)
            state[(ai * T + t) * nd + j] = ign[t * D + d] ? 0 : (match[t * D + d] >= 0 ? 1 : 2);
        }
      }
      for (int64_t ai = 0; ai < A; ++ai) {
        int64_t npig = 0;
        for (int64_t g : groups) npig += npig_[g * A_ + areas[ai]];
        if (npig == 0) continue;
        // need[r]: the fewest true positives whose recall tp / npig reaches rec_thrs[r],
        // computed with the same division numpy does.
        for (int64_t r = 0; r < R; ++r) {
          const double thr = p_.rec_thrs[r];
          int64_t c = static_cast<int64_t>(std::ceil(thr * static_cast<double>(npig)));
          c = std::max<int64_t>(c, 0);
          while (c > 0 && static_cast<double>(c - 1) / static_cast<double>(npig) >= thr) --c;
          while (static_cast<double>(c) / static_cast<double>(npig) < thr && c <= npig + 1) ++c;
          need[r] = c;
        }
        for (int64_t t = 0; t < T; ++t) {
          const uint8_t* st = &state[(ai * T + t) * nd];
          // Precision only changes upwards at a true positive, so the envelope (the running
          // maximum from the right) is the suffix maximum over true positives: compute the
          // precision there only. tp_pos[i] is where the (i+1)-th true positive is.
          tp_pos.clear();
          tp_prec.clear();
          double tp = 0, fp = 0;
          for (int64_t j = 0; j < nd; ++j) {
            if (st[j] == 1) {
              tp += 1;
              tp_pos.push_back(j);
              tp_prec.push_back(tp / (fp + tp + eps));
            } else if (st[j] == 2) {
              fp += 1;
            }
          }
          const int64_t ntp = static_cast<int64_t>(tp_pos.size());
          for (int64_t i = ntp - 1; i > 0; --i)
            if (tp_prec[i] > tp_prec[i - 1]) tp_prec[i - 1] = tp_prec[i];
          recall[((t * K + ki) * A + ai) * M + mi] =  // (T, K, A, M)
              nd ? tp / static_cast<double>(npig) : 0.0;
          bool reached = true;
          for (int64_t r = 0; r < R; ++r) {
            const int64_t out = (((t * R + r) * K + ki) * A + ai) * M + mi;  // (T, R, K, A, M)
            const int64_t c = need[r];
            // A recall never reached stops pycocotools' loop (an IndexError it catches): this
            // threshold and every later one stay 0, even lower ones if the list is unsorted.
            reached = reached && nd > 0 && c <= ntp;
            if (!reached) {
              precision[out] = 0.0;
              scores[out] = 0.0;
            } else if (c == 0) {  // the first detection: the envelope over all of them
              precision[out] = ntp ? tp_prec[0] : 0.0;
              scores[out] = sc[0];
            } else {
              precision[out] = tp_prec[c - 1];
              scores[out] = sc[tp_pos[c - 1]];
            }
          }
        }
      }
    }
  });
}

}  // namespace eval
}  // namespace cvk
