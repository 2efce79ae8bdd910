// COCO evaluation, pycocotools' algorithm on columnar arrays.
//
// evaluate(): annotations are grouped by (category, image): bucketed by image, then, in
// parallel over blocks of images, split by category (the constructor). For each group, in
// parallel, image by image: detections sorted by score (stable, so ties keep dataset order)
// and cut to the largest maxDet; the D x G IoU matrix once; then for each area
// range the ground truth is reordered with ignored ones last and, for each IoU threshold,
// every detection in score order takes the best still-free ground truth with IoU >= threshold
// (match.h's COCO rule; bit masks up to 64 ground truth). Unmatched detections outside the
// area range are ignored.
// accumulate(): evaluate's outcome as one match record per detection (score, category, image,
// rank in its image, matched / ignored per area range and threshold; records from many
// processes can be concatenated). For each category the records are merged by score once (a
// stable bucket sort; ties by image order, then rank); each maxDet's kept records are
// transposed into one row per (area range, IoU threshold); along each row cumulative true /
// false positives give recall and precision, and the precision envelope is sampled at the
// recall thresholds, as numpy does it in pycocotools (same divisions, same values).
// Cost: O(sum over groups of T * D * G) for matching, O(D + A*T*M*D) to accumulate.
#include "eval/coco_eval.h"
#include "eval/match.h"
#include "eval/oks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "common/radix_sort.h"
#include "common/thread_pool.h"

namespace cvk {
namespace eval {

namespace {

// pycocotools' bbIou of one pair: boxes a (detection) and b (ground truth) as (x, y, w, h);
// a crowd's union is the detection's area.
inline double iou_xywh(const double* a, const double* b, bool crowd) {
  const double w = std::fmin(a[2] + a[0], b[2] + b[0]) - std::fmax(a[0], b[0]);
  if (w <= 0) return 0;
  const double h = std::fmin(a[3] + a[1], b[3] + b[1]) - std::fmax(a[1], b[1]);
  if (h <= 0) return 0;
  const double i = w * h, da = a[2] * a[3];
  return i / (crowd ? da : da + b[2] * b[3] - i);
}

}  // namespace

void bbox_iou_xywh(const double* dt, int64_t D, const double* gt, int64_t G,
                   const uint8_t* crowd, double* out) {
  for (int64_t g = 0; g < G; ++g)
    for (int64_t d = 0; d < D; ++d) out[d * G + g] = iou_xywh(dt + 4 * d, gt + 4 * g, crowd != nullptr && crowd[g]);
}

CocoEval::CocoEval(CocoParams params, int64_t num_images, int64_t num_cats, Annotations gt,
                   Annotations dt)
    : p_(std::move(params)), I_(num_images), K_(num_cats), gt_(gt), dt_(dt) {
  if (p_.area_lo.size() != p_.area_hi.size())
    throw std::invalid_argument("cvkernels: area ranges need a lower and an upper bound");
  std::sort(p_.max_dets.begin(), p_.max_dets.end());
  T_ = static_cast<int64_t>(p_.iou_thrs.size());
  A_ = static_cast<int64_t>(p_.area_lo.size());
  // Groups: every (cat, img) that has ground truth or detections, numbered image by image and
  // by category inside an image: evaluate()'s order, in which an image's groups read
  // neighbouring entries of the inputs. Found with arrays of I and K entries and of the groups
  // only: each side's annotations by image (a stable counting sort, skipped when the input
  // comes image by image), then, in parallel over blocks of images, each image's categories,
  // groups and members. A K * I table of groups (96 MB for LVIS) and members bucketed in
  // (category, image) order made this setup as slow as the matching.
  if (gt_.n + dt_.n >= (int64_t(1) << 31)) throw std::invalid_argument("cvkernels: at most 2^31 - 1 annotations");
  const Annotations* sides[2] = {&gt_, &dt_};
  // Per side, its annotations by image: image i's are order(s, side_start[s][i] ..
  // side_start[s][i + 1] - 1), their input order kept (identity when the input comes image by
  // image, as it usually does).
  std::vector<int64_t> side_start[2];
  Uninit<int64_t> side_order[2];
  bool in_image_order[2];
  for (int s = 0; s < 2; ++s) {
    const Annotations& an = *sides[s];
    std::vector<int64_t>& start = side_start[s];
    start.assign(static_cast<size_t>(I_ + 1), 0);
    bool ordered = true;
    for (int64_t i = 0; i < an.n; ++i) {
      const int64_t img = an.img[i], cat = an.cat[i];
      if (img < 0 || img >= I_ || cat < 0 || cat >= K_)
        throw std::invalid_argument("cvkernels: annotation image or category index out of range");
      ++start[img + 1];
      ordered = ordered && (i == 0 || img >= an.img[i - 1]);
    }
    for (int64_t i = 0; i < I_; ++i) start[i + 1] += start[i];
    in_image_order[s] = ordered;
    if (ordered) continue;
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    side_order[s].resize(static_cast<size_t>(an.n));
    for (int64_t i = 0; i < an.n; ++i) side_order[s][fill[an.img[i]]++] = i;
  }
  auto order = [&](int s, int64_t e) { return in_image_order[s] ? e : side_order[s][e]; };
  // The rest in parallel over blocks of images (a block's groups, members and records per
  // category follow those of the blocks before it): first each block's groups, then, with the
  // counts of the blocks before, everything else of the block.
  const int64_t NB = std::max<int64_t>(1, std::min<int64_t>({16, I_, (int64_t(1) << 18) / std::max<int64_t>(K_, 1)}));
  auto block_img = [&](int64_t b) { return I_ * b / NB; };  // block b: images block_img(b) .. block_img(b + 1) - 1
  std::vector<std::vector<int32_t>> block_cats(static_cast<size_t>(NB));  // per image its categories, ascending
  std::vector<std::vector<int64_t>> block_img_first(static_cast<size_t>(NB));
  // per (block, category): groups and kept detections, then (after the prefix sums) the first of each
  std::vector<int64_t> cat_groups(static_cast<size_t>(NB * K_), 0), cat_records(cat_groups.size(), 0);
  const int64_t max_det = p_.max_dets.empty() ? 0 : p_.max_dets.back();
  parallel_for_each(NB, [&](int64_t b) {
    // An image's categories in ascending order: a bit per category, walked word by word (a
    // sort of each image's few categories, with its unpredictable branches, took longer than
    // the rest of the setup); a sort where they span more than 64 words.
    std::vector<uint64_t> bits(static_cast<size_t>((K_ + 63) / 64), 0);
    std::vector<int64_t> seen(static_cast<size_t>(K_), -1), ndet(static_cast<size_t>(K_), 0);
    std::vector<int32_t>& cats = block_cats[b];
    std::vector<int64_t>& first = block_img_first[b];
    first.push_back(0);
    for (int64_t img = block_img(b); img < block_img(b + 1); ++img) {
      const size_t at = cats.size();
      int64_t lo = static_cast<int64_t>(bits.size()), hi = -1;
      for (int s = 0; s < 2; ++s)
        for (int64_t e = side_start[s][img]; e < side_start[s][img + 1]; ++e) {
          const int64_t cat = sides[s]->cat[order(s, e)];
          bits[cat >> 6] |= uint64_t(1) << (cat & 63);
          lo = std::min(lo, cat >> 6);
          hi = std::max(hi, cat >> 6);
          if (s == 1) ++ndet[cat];
        }
      if (hi - lo < 64) {
        for (int64_t w = lo; w <= hi; ++w) {
          for (uint64_t m = bits[w]; m != 0; m &= m - 1) cats.push_back(static_cast<int32_t>(64 * w + __builtin_ctzll(m)));
          bits[w] = 0;
        }
      } else {
        for (int s = 0; s < 2; ++s)
          for (int64_t e = side_start[s][img]; e < side_start[s][img + 1]; ++e) {
            const int64_t cat = sides[s]->cat[order(s, e)];
            if (seen[cat] != img) cats.push_back(static_cast<int32_t>(cat));
            seen[cat] = img;
            bits[cat >> 6] = 0;
          }
        std::sort(cats.begin() + static_cast<int64_t>(at), cats.end());
      }
      for (size_t j = at; j < cats.size(); ++j) {
        ++cat_groups[b * K_ + cats[j]];
        cat_records[b * K_ + cats[j]] += std::min(max_det, ndet[cats[j]]);
        ndet[cats[j]] = 0;
      }
      first.push_back(static_cast<int64_t>(cats.size()));
    }
  });
  // Prefix sums: each block's first group; per (block, category) the first place in
  // (category, image) order of its groups (by_cat_) and of their records (res_off_).
  std::vector<int64_t> block_g0(static_cast<size_t>(NB + 1), 0);
  for (int64_t b = 0; b < NB; ++b) block_g0[b + 1] = block_g0[b] + static_cast<int64_t>(block_cats[b].size());
  const int64_t G = block_g0[NB];
  cat_first_.assign(static_cast<size_t>(K_ + 1), 0);
  n_records_ = 0;
  for (int64_t k = 0, groups = 0; k < K_; ++k) {
    cat_first_[k] = groups;
    for (int64_t b = 0; b < NB; ++b) {
      const int64_t ng = cat_groups[b * K_ + k], nr = cat_records[b * K_ + k];
      cat_groups[b * K_ + k] = groups;
      cat_records[b * K_ + k] = n_records_;
      groups += ng;
      n_records_ += nr;
    }
  }
  cat_first_[K_] = G;
  img_first_.resize(static_cast<size_t>(I_ + 1));
  img_first_[I_] = G;
  group_cat_.resize(static_cast<size_t>(G));
  group_img_.resize(static_cast<size_t>(G));
  by_cat_.resize(static_cast<size_t>(G));
  res_off_.resize(static_cast<size_t>(G));
  dt_keep_.resize(static_cast<size_t>(G));
  gt_start_.resize(static_cast<size_t>(G + 1));
  dt_start_.resize(static_cast<size_t>(G + 1));
  gt_start_[G] = gt_.n;
  dt_start_[G] = dt_.n;
  gt_idx_.resize(static_cast<size_t>(gt_.n));
  dt_idx_.resize(static_cast<size_t>(dt_.n));
  parallel_for_each(NB, [&](int64_t b) {
    const int64_t g0 = block_g0[b], img0 = block_img(b);
    const std::vector<int32_t>& cats = block_cats[b];
    int64_t* next_group = cat_groups.data() + b * K_;    // by_cat_ places of this block's groups
    int64_t* next_record = cat_records.data() + b * K_;  // res_off_ of this block's groups
    std::vector<int64_t> slot(static_cast<size_t>(K_), 0);
    std::vector<int64_t> count;
    for (int64_t img = img0; img < block_img(b + 1); ++img) {
      const int64_t f = g0 + block_img_first[b][img - img0], l = g0 + block_img_first[b][img - img0 + 1];
      img_first_[img] = f;
      for (int64_t g = f; g < l; ++g) {
        const int32_t cat = cats[g - g0];
        group_cat_[g] = cat;
        group_img_[g] = static_cast<int32_t>(img);
        slot[cat] = g;
        by_cat_[next_group[cat]++] = g;
      }
      // Each side's annotations of the image into its groups, in input order (ascending
      // indices inside a group: the score sort's tie order), members of the image's groups
      // starting where the image's annotations start.
      for (int s = 0; s < 2; ++s) {
        Uninit<int64_t>& start = s == 0 ? gt_start_ : dt_start_;
        Uninit<int64_t>& idx = s == 0 ? gt_idx_ : dt_idx_;
        count.assign(static_cast<size_t>(l - f), 0);
        for (int64_t e = side_start[s][img]; e < side_start[s][img + 1]; ++e)
          ++count[slot[sides[s]->cat[order(s, e)]] - f];
        for (int64_t g = f, at = side_start[s][img]; g < l; ++g) {
          if (s == 1) dt_keep_[g] = std::min(max_det, count[g - f]);
          start[g] = at;
          at += count[g - f];
          count[g - f] = start[g];  // now the next member's place
        }
        for (int64_t e = side_start[s][img]; e < side_start[s][img + 1]; ++e) {
          const int64_t i = order(s, e);
          idx[count[slot[sides[s]->cat[i]] - f]++] = i;
        }
      }
      for (int64_t g = f; g < l; ++g) {
        res_off_[g] = next_record[group_cat_[g]];
        next_record[group_cat_[g]] += dt_keep_[g];
      }
    }
  });
}

int64_t CocoEval::group_of(int64_t cat, int64_t img) const {
  if (cat < 0 || cat >= K_ || img < 0 || img >= I_) return -1;
  // the image's groups, by category: a binary search
  const int32_t* first = group_cat_.data() + img_first_[img];
  const int32_t* last = group_cat_.data() + img_first_[img + 1];
  const int32_t* at = std::lower_bound(first, last, static_cast<int32_t>(cat));
  return at != last && *at == cat ? at - group_cat_.data() : -1;
}

std::vector<int64_t> CocoEval::group_dets(int64_t g) const {
  return {dt_idx_.begin() + dt_start_[g], dt_idx_.begin() + dt_start_[g] + num_dets(g)};
}

std::vector<int64_t> CocoEval::group_gts(int64_t g) const {
  return {gt_idx_.begin() + gt_start_[g], gt_idx_.begin() + gt_start_[g + 1]};
}

std::vector<int32_t> CocoEval::group_match(int64_t g, int64_t a) const {
  GroupScratch sc;
  std::vector<int32_t> match(T_ * num_dets(g));
  std::vector<uint8_t> dig(T_ * num_dets(g));
  load_group(g, sc);
  match_area(g, a, sc, match.data(), dig.data());
  return match;
}

std::vector<uint8_t> CocoEval::group_dt_ignore(int64_t g, int64_t a) const {
  GroupScratch sc;
  std::vector<int32_t> match(T_ * num_dets(g));
  std::vector<uint8_t> dig(T_ * num_dets(g));
  load_group(g, sc);
  match_area(g, a, sc, match.data(), dig.data());
  return dig;
}

std::vector<uint8_t> CocoEval::group_gt_ignore(int64_t g, int64_t a) const {
  std::vector<uint8_t> ig(static_cast<size_t>(gt_start_[g + 1] - gt_start_[g]));
  gt_ignore_flags(g, a, ig.data());
  return ig;
}

void CocoEval::evaluate() {
  // Every entry is written by evaluate_group: no zeroing pass (7.8 MB for val2017-sized
  // results), and the pages are first touched by the threads that fill them.
  state_.reset(new uint8_t[static_cast<size_t>(n_records_ * A_ * T_)]);
  npig_.reset(new int32_t[static_cast<size_t>(dt_keep_.size() * A_)]);  // written by evaluate_group
  dt_score_.resize(static_cast<size_t>(n_records_));
  const int64_t G = static_cast<int64_t>(dt_keep_.size());
  parallel_for(0, G, 64, [&](int64_t g0, int64_t g1) {
    EvalScratch es;  // reused across the task's groups
    for (int64_t g = g0; g < g1; ++g) evaluate_group(g, es);
  });
}

void CocoEval::load_group(int64_t g, GroupScratch& sc) const {
  const int64_t* dets = dt_idx_.data() + dt_start_[g];
  const int64_t* gts = gt_idx_.data() + gt_start_[g];
  const int64_t D = num_dets(g), G = gt_start_[g + 1] - gt_start_[g];
  sc.dbox.resize(4 * D);
  sc.gbox.resize(4 * G);
  sc.iou.resize(D * G);
  sc.crowd.resize(G);
  sc.ignore.resize(G);
  for (int64_t d = 0; d < D; ++d)
    std::copy(dt_.box + 4 * dets[d], dt_.box + 4 * dets[d] + 4, &sc.dbox[4 * d]);
  for (int64_t j = 0; j < G; ++j) {
    std::copy(gt_.box + 4 * gts[j], gt_.box + 4 * gts[j] + 4, &sc.gbox[4 * j]);
    sc.crowd[j] = gt_.crowd[gts[j]];
  }
  if (gt_kpts_ != nullptr) {  // keypoints: OKS (pycocotools' computeOks)
    const int64_t K = static_cast<int64_t>(sigmas_.size());
    std::vector<double> dk(3 * K * D), gk(3 * K * G), ga(G);
    for (int64_t d = 0; d < D; ++d)
      std::copy(dt_kpts_ + 3 * K * dets[d], dt_kpts_ + 3 * K * (dets[d] + 1), &dk[3 * K * d]);
    for (int64_t j = 0; j < G; ++j) {
      std::copy(gt_kpts_ + 3 * K * gts[j], gt_kpts_ + 3 * K * (gts[j] + 1), &gk[3 * K * j]);
      ga[j] = gt_.area[gts[j]];
    }
    keypoint_oks(dk.data(), D, gk.data(), G, sc.gbox.data(), ga.data(), sigmas_.data(), K, sc.iou.data());
    return;
  }
  if (!gt_rle_.empty() || !dt_rle_.empty()) {  // segmentation: mask IoU (pycocotools' rleIou)
    std::vector<const rle::Rle*> dr(D), gr(G);
    for (int64_t d = 0; d < D; ++d) dr[d] = dt_rle_[dets[d]];
    for (int64_t j = 0; j < G; ++j) gr[j] = gt_rle_[gts[j]];
    auto boxes_of = [](const std::vector<const double*>& box, const int64_t* idx, int64_t n, std::vector<double>& out) {
      if (box.empty()) return static_cast<const double*>(nullptr);
      out.resize(4 * n);
      for (int64_t i = 0; i < n; ++i) std::copy(box[idx[i]], box[idx[i]] + 4, &out[4 * i]);
      return static_cast<const double*>(out.data());
    };
    std::vector<double> mdb, mgb;
    const double* db = boxes_of(dt_mask_box_, dets, D, mdb);
    const double* gb = boxes_of(gt_mask_box_, gts, G, mgb);
    rle::iou(dr.data(), D, gr.data(), G, sc.crowd.data(), sc.iou.data(), db, gb);
    return;
  }
  bbox_iou_xywh(sc.dbox.data(), D, sc.gbox.data(), G, sc.crowd.data(), sc.iou.data());
}

int64_t CocoEval::gt_ignore_flags(int64_t g, int64_t a, uint8_t* ig) const {
  const int64_t* gts = gt_idx_.data() + gt_start_[g];
  const int64_t G = gt_start_[g + 1] - gt_start_[g];
  const double lo = p_.area_lo[a], hi = p_.area_hi[a];
  int64_t npig = 0;
  for (int64_t j = 0; j < G; ++j) {
    const double ar = gt_.area[gts[j]];
    // pycocotools: ignore = iscrowd (keypoints: or no labelled keypoint), or area outside the range
    ig[j] = ignored(gts[j]) || ar < lo || ar > hi;
    npig += !ig[j];
  }
  return npig;
}

int64_t CocoEval::match_area(int64_t g, int64_t a, GroupScratch& sc, int32_t* match,
                             uint8_t* dig) const {
  const int64_t* dets = dt_idx_.data() + dt_start_[g];
  const int64_t D = num_dets(g), G = gt_start_[g + 1] - gt_start_[g];
  const double lo = p_.area_lo[a], hi = p_.area_hi[a];
  const int64_t npig = gt_ignore_flags(g, a, sc.ignore.data());
  match_coco(sc.iou.data(), D, G, p_.iou_thrs.data(), T_, sc.crowd.data(), sc.ignore.data(),
             match, dig);
  // Unmatched detections outside the area range (or flagged) are ignored.
  for (int64_t d = 0; d < D; ++d) {
    if (!unmatched_ignored(dets[d], lo, hi)) continue;
    for (int64_t t = 0; t < T_; ++t)
      if (match[t * D + d] < 0) dig[t * D + d] = 1;
  }
  return npig;
}

void CocoEval::evaluate_group(int64_t g, EvalScratch& es) {
  int64_t* dets = dt_idx_.data() + dt_start_[g];
  // Score order, ties in dataset order (the indices ascend inside a group): pycocotools'
  // stable mergesort, without the temporary buffer std::stable_sort allocates.
  auto before = [&](int64_t a, int64_t b) {
    return dt_.score[a] > dt_.score[b] || (dt_.score[a] == dt_.score[b] && a < b);
  };
  const int64_t n = dt_start_[g + 1] - dt_start_[g];
  if (n > 16) {
    std::sort(dets, dets + n, before);
  } else {  // most groups hold a few detections: an insertion sort, without std::sort's set-up
    for (int64_t i = 1; i < n; ++i) {
      const int64_t x = dets[i];
      int64_t j = i;
      for (; j > 0 && before(x, dets[j - 1]); --j) dets[j] = dets[j - 1];
      dets[j] = x;
    }
  }
  const int64_t D = num_dets(g), G = gt_start_[g + 1] - gt_start_[g];
  // Per kept detection: its score, and per area range kIgnored where it lies outside (or is
  // flagged), which makes it ignored wherever it matches nothing.
  es.outside.resize(static_cast<size_t>(D * A_));
  for (int64_t d = 0; d < D; ++d) {
    dt_score_[res_off_[g] + d] = dt_.score[dets[d]];
    for (int64_t a = 0; a < A_; ++a)
      es.outside[d * A_ + a] = unmatched_ignored(dets[d], p_.area_lo[a], p_.area_hi[a]) ? kIgnored : 0;
  }
  uint8_t* states = state_.get() + result_at(g, 0);  // (D, A, T), this group's
  if (G == 0) {  // common: nothing to match; detections outside an area range are ignored
    for (int64_t a = 0; a < A_; ++a) npig_[g * A_ + a] = 0;
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    for (int64_t d = 0; d < D; ++d)
      for (int64_t a = 0; a < A_; ++a) {  // T bytes of the flag, in words (memset calls cost more)
        const uint8_t v = es.outside[d * A_ + a];
        const uint64_t v8 = v * kOnes;
        uint8_t* st = states + (d * A_ + a) * T_;
        int64_t t = 0;
        for (; t + 8 <= T_; t += 8) std::memcpy(st + t, &v8, 8);
        for (; t < T_; ++t) st[t] = v;
      }
    return;
  }
  GroupScratch& sc = es.group;
  const int64_t* gts = gt_idx_.data() + gt_start_[g];
  if (gt_kpts_ == nullptr && gt_rle_.empty() && dt_rle_.empty()) {  // boxes: IoU straight from the inputs
    sc.iou.resize(D * G);
    sc.crowd.resize(G);
    for (int64_t j = 0; j < G; ++j) sc.crowd[j] = gt_.crowd[gts[j]];
    for (int64_t d = 0; d < D; ++d)
      for (int64_t j = 0; j < G; ++j)
        sc.iou[d * G + j] = iou_xywh(dt_.box + 4 * dets[d], gt_.box + 4 * gts[j], sc.crowd[j] != 0);
  } else {
    load_group(g, sc);
  }
  const int64_t TD = T_ * D;
  // matched (A, D, T) for each distinct set of ignored ground truth: kMatched, plus kIgnored
  // for a match to ignored ground truth; 0 unmatched
  es.matched.resize(A_ * TD);
  const bool bits = G <= kMatchBits && T_ <= kMatchBits;
  es.ignore.resize(A_ * G);
  es.ignore_bits.resize(A_);
  uint64_t crowd_bits = 0;
  if (bits)
    for (int64_t j = 0; j < G; ++j) crowd_bits |= uint64_t(sc.crowd[j] != 0) << j;
  for (int64_t a = 0; a < A_; ++a) {
    uint8_t* ig = es.ignore.data() + a * G;
    npig_[g * A_ + a] = static_cast<int32_t>(gt_ignore_flags(g, a, ig));
    // The matching depends on the area range only through these flags: an earlier range with
    // the same flags (COCO's "all" and the one size range that holds a group's ground truth)
    // has it already.
    int64_t src = a;
    if (bits) {
      uint64_t m = 0;
      for (int64_t j = 0; j < G; ++j) m |= uint64_t(ig[j]) << j;
      es.ignore_bits[a] = m;
      for (int64_t b = 0; b < a && src == a; ++b)
        if (es.ignore_bits[b] == m) src = b;
    } else {
      for (int64_t b = 0; b < a && src == a; ++b)
        if (std::equal(ig, ig + G, es.ignore.data() + b * G)) src = b;
    }
    uint8_t* out = es.matched.data() + a * TD;
    if (src == a && bits) {
      match_coco_bits(sc.iou.data(), D, G, p_.iou_thrs.data(), T_, crowd_bits, es.ignore_bits[a],
                      [&](int64_t t, int64_t d, int64_t m, bool ignored) {
                        out[d * T_ + t] = static_cast<uint8_t>(m < 0 ? 0 : (ignored ? kMatched | kIgnored : kMatched));
                      });
    } else if (src == a) {
      es.match.resize(TD);
      es.dig.resize(TD);
      match_coco(sc.iou.data(), D, G, p_.iou_thrs.data(), T_, sc.crowd.data(), ig, es.match.data(), es.dig.data(),
                 es.matcher);
      for (int64_t t = 0; t < T_; ++t)
        for (int64_t d = 0; d < D; ++d) {
          const int64_t i = t * D + d;
          out[d * T_ + t] = static_cast<uint8_t>((es.match[i] >= 0 ? kMatched : 0) | (es.dig[i] ? kIgnored : 0));
        }
    }
    // Unmatched detections outside the area range (or flagged) are ignored.
    const uint8_t* matched = es.matched.data() + src * TD;
    // (A match sets bit kMatched, so a state without it is unmatched: st = m | (~m & 1) * outside.)
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    for (int64_t d = 0; d < D; ++d) {
      const uint8_t outside = es.outside[d * A_ + a];
      const uint64_t outside8 = outside * kOnes;
      const uint8_t* m = matched + d * T_;
      uint8_t* st = states + (d * A_ + a) * T_;
      int64_t t = 0;
      for (; t + 8 <= T_; t += 8) {  // eight thresholds at a time
        uint64_t w;
        std::memcpy(&w, m + t, 8);
        w |= ((~w & kOnes) * 0xff) & outside8;
        std::memcpy(st + t, &w, 8);
      }
      for (; t < T_; ++t) st[t] = static_cast<uint8_t>(m[t] | ((~m[t] & 1) * outside));
    }
  }
}

namespace {

// The true positives of n states (0 ignored, 1 true, 2 false positive): the place of each in
// pos[] and the false positives before it in nfp_before[]; their count in ntp, the false
// positives' in nfp. Eight states at a time: a word's true and false positive flags as one bit
// per byte, whose count is a multiply (bytes of 0 / 1 add up in the top byte), and only its
// true positives visited; a loop over every state was a third of accumulate's time.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "scan_true_positives reads bytes in little-endian order");

void scan_true_positives(const uint8_t* st, int64_t n, int64_t* pos, int64_t* nfp_before, int64_t& ntp,
                         int64_t& nfp) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  auto bytes_set = [](uint64_t m) { return static_cast<int64_t>((m * kOnes) >> 56); };  // m: 0 / 1 bytes
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    uint64_t w;
    std::memcpy(&w, st + j, 8);  // bytes in memory order (little-endian x86 / ARM)
    uint64_t tp = w & kOnes;
    const uint64_t fp = (w >> 1) & kOnes;
    while (tp != 0) {
      const int bit = __builtin_ctzll(tp);  // 8 x the byte's place
      pos[ntp] = j + (bit >> 3);
      nfp_before[ntp] = nfp + bytes_set(fp & ((uint64_t(1) << bit) - 1));
      ++ntp;
      tp &= tp - 1;
    }
    nfp += bytes_set(fp);
  }
  for (; j < n; ++j) {
    const uint8_t v = st[j];
    pos[ntp] = j;  // overwritten until a true positive claims the slot
    nfp_before[ntp] = nfp;
    ntp += v & 1;
    nfp += v >> 1;
  }
}

// A match record's state bytes (kMatched | kIgnored bits) as accumulate's codes: 0 ignored, 1 true
// positive, 2 false positive; eight at a time.
void state_codes(uint8_t* x, int64_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  auto code = [](uint64_t w) {
    const uint64_t matched = w & kOnes, kept = ~(w >> 1) & kOnes;  // not ignored
    return (matched & kept) | (((matched ^ kOnes) & kept) << 1);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, x + i, 8);
    w = code(w);
    std::memcpy(x + i, &w, 8);
  }
  for (; i < n; ++i) x[i] = static_cast<uint8_t>(code(x[i]));
}

// rows[s * n + j] = src[j][s] for the n rows src[j] of m bytes: eight rows at a time, each 8 x 8
// block of bytes transposed in three swap steps on 64-bit words (4 x 4 blocks, 2 x 2, single
// bytes) and written as one 8-byte store per output row.
void transpose_rows(const uint8_t* const* src, int64_t n, int64_t m, uint8_t* rows) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    int64_t s = 0;
    for (; s + 8 <= m; s += 8) {
      uint64_t x[8];
      for (int i = 0; i < 8; ++i) std::memcpy(&x[i], src[j + i] + s, 8);
      for (int i = 0; i < 4; ++i) {
        const uint64_t t = ((x[i] >> 32) ^ x[i + 4]) & 0x00000000ffffffffull;
        x[i] ^= t << 32;
        x[i + 4] ^= t;
      }
      for (int i : {0, 1, 4, 5}) {
        const uint64_t t = ((x[i] >> 16) ^ x[i + 2]) & 0x0000ffff0000ffffull;
        x[i] ^= t << 16;
        x[i + 2] ^= t;
      }
      for (int i : {0, 2, 4, 6}) {
        const uint64_t t = ((x[i] >> 8) ^ x[i + 1]) & 0x00ff00ff00ff00ffull;
        x[i] ^= t << 8;
        x[i + 1] ^= t;
      }
      for (int i = 0; i < 8; ++i) std::memcpy(rows + (s + i) * n + j, &x[i], 8);
    }
    for (; s < m; ++s)
      for (int i = 0; i < 8; ++i) rows[s * n + j + i] = src[j + i][s];
  }
  for (; j < n; ++j)
    for (int64_t s = 0; s < m; ++s) rows[s * n + j] = src[j][s];
}

// accumulate on records; state_of(i, a) points to record i's states for area range a (T bytes).
// contiguous: state_of(i, a) == state_of(0, 0) + (i * A + a) * T for every record (states stored
// record by record, every area range), so consecutive records' states are one block.
template <class StateOf>
void accumulate_impl(bool contiguous, const MatchRecords& rec, int64_t K, int64_t A, int64_t T,
                     const std::vector<double>& rec_thrs, const std::vector<int64_t>& max_dets,
                     double* precision, double* recall, double* scores, StateOf state_of) {
  const int64_t R = static_cast<int64_t>(rec_thrs.size());
  const int64_t M = static_cast<int64_t>(max_dets.size());
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  for (int64_t i = 0; i < rec.n; ++i)
    if (rec.cat[i] < 0 || rec.cat[i] >= K || rec.rank[i] < 0)
      throw std::invalid_argument("cvkernels: match record with a category out of range or a negative rank");
  // The records of each category (counting sort, stable).
  std::vector<int64_t> start(K + 1, 0), idx(rec.n);
  for (int64_t i = 0; i < rec.n; ++i) ++start[rec.cat[i] + 1];
  for (int64_t k = 0; k < K; ++k) start[k + 1] += start[k];
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < rec.n; ++i) idx[fill[rec.cat[i]]++] = i;
  }
  constexpr int64_t kBlock = 4;  // categories per task (below)
  const int64_t AM = A * M;
  // accumulate_category(k, kk, p, s) writes category k's precision and scores to the block
  // scratch rows p, s laid out as (T, R, kBlock, A, M), k at kk.
  auto accumulate_category = [&](int64_t k, int64_t kk, double* const prec_k, double* const scores_k) {
    const int64_t nd_all = start[k + 1] - start[k];
    // Every detection of the category merged by score once. pycocotools concatenates the
    // images' detections (each in score order) and sorts stably: ties go by image order, then
    // by rank inside the image. A smaller maxDet keeps those of rank < maxDet, in this order.
    // Members in (image, rank) order (as one process's records already are), so that a sort
    // by score with ties by that order gives pycocotools' merge.
    int64_t* members = idx.data() + start[k];
    auto before = [&](int64_t x, int64_t y) {
      return rec.image[x] < rec.image[y] || (rec.image[x] == rec.image[y] && rec.rank[x] < rec.rank[y]);
    };
    if (!std::is_sorted(members, members + nd_all, before)) std::sort(members, members + nd_all, before);
    struct Key {
      double score;
      int64_t u;  // the place in members
    };
    // A stable sort of the places u by descending score (common/radix_sort.h's bucket sort:
    // keys ~float_key, so -0.0 ties with 0.0; a NaN last, as numpy's argsort of -score puts
    // it), the places riding along as exact doubles; a radix sort took half the time of a
    // comparison sort, the bucket sort two passes of the radix sort's six.
    std::vector<Key> keys(nd_all);
    {
      std::vector<uint64_t> key(nd_all), ktmp(nd_all);
      std::vector<double> place(nd_all), ptmp(nd_all);
      for (int64_t u = 0; u < nd_all; ++u) {
        const double x = rec.score[members[u]];
        key[u] = std::isnan(x) ? ~uint64_t(0) : ~float_key(x);
        place[u] = static_cast<double>(u);
      }
      bucket_sort(key.data(), ktmp.data(), place.data(), ptmp.data(), static_cast<size_t>(nd_all));
      for (int64_t j = 0; j < nd_all; ++j) {
        const int64_t u = static_cast<int64_t>(place[j]);
        keys[j] = {rec.score[members[u]], u};
      }
    }
    std::vector<int64_t> rank_m(nd_all);  // rank in its image, in merged order
    for (int64_t j = 0; j < nd_all; ++j) rank_m[j] = rec.rank[members[keys[j].u]];
    // Per maxDet, per (area, threshold) a row of its kept detections in merged order: 0
    // ignored, 1 true, 2 false positive. The category's states are first copied as codes in
    // input order (sequential reads of the records), then transposed from that L2-resident
    // copy into the rows, eight detections at a time (transpose_rows). Stored straight into
    // merged places, single bytes 40 rows apart, this was a third of accumulate.
    const int64_t AT = A * T;
    std::vector<uint8_t> mine(static_cast<size_t>(AT * nd_all));
    bool one_block = contiguous && nd_all > 0;  // the category's records consecutive: one copy
    for (int64_t u = 1; one_block && u < nd_all; ++u) one_block = members[u] == members[0] + u;
    if (one_block)
      std::memcpy(mine.data(), state_of(members[0], 0), static_cast<size_t>(AT * nd_all));
    else
      for (int64_t u = 0; u < nd_all; ++u)
        for (int64_t a = 0; a < A; ++a) std::memcpy(mine.data() + u * AT + a * T, state_of(members[u], a), T);
    state_codes(mine.data(), AT * nd_all);
    // Per maxDet the detections it keeps (rank < maxDet in their image), in merged order: their
    // codes and scores, picked without a branch (each slot written, the count advanced by the
    // test). The kept sets of two maxDets are nested, so an equal count means the same
    // detections: such a maxDet copies the previous one's values below instead of having rows.
    std::vector<std::vector<uint8_t>> rows(M);
    std::vector<std::vector<double>> kept_score(M);
    std::vector<int64_t> nd_of(M, 0);
    std::vector<char> own(M, 0);
    std::vector<const uint8_t*> kept(nd_all);
    for (int64_t mi = 0; mi < M; ++mi) {
      std::vector<double>& sc = kept_score[mi];
      sc.resize(nd_all);
      int64_t nd = 0;
      for (int64_t j = 0; j < nd_all; ++j) {
        kept[nd] = mine.data() + keys[j].u * AT;
        sc[nd] = keys[j].score;
        nd += rank_m[j] < max_dets[mi];
      }
      nd_of[mi] = nd;
      if (mi > 0 && nd == nd_of[mi - 1]) continue;
      own[mi] = 1;
      rows[mi].resize(static_cast<size_t>(AT * nd));
      transpose_rows(kept.data(), nd, AT, rows[mi].data());
    }
    std::vector<double> tp_prec(nd_all + 1);
    std::vector<int64_t> tp_pos(nd_all + 1), tp_nfp(nd_all + 1);
    // need_of[ai * R + r]: the fewest true positives whose recall tp / npig reaches rec_thrs[r],
    // computed with the same division numpy does.
    std::vector<int64_t> need_of(A * R, 0);
    for (int64_t ai = 0; ai < A; ++ai) {
      const int64_t npig = rec.npig[k * A + ai];
      for (int64_t r = 0; r < R && npig != 0; ++r) {
        const double thr = rec_thrs[r];
        int64_t c = static_cast<int64_t>(std::ceil(thr * static_cast<double>(npig)));
        c = std::max<int64_t>(c, 0);
        while (c > 0 && static_cast<double>(c - 1) / static_cast<double>(npig) >= thr) --c;
        while (static_cast<double>(c) / static_cast<double>(npig) < thr && c <= npig + 1) ++c;
        need_of[ai * R + r] = c;
      }
    }
    auto at = [&](int64_t t, int64_t r, int64_t ai, int64_t mi) { return ((t * R + r) * kBlock + kk) * AM + ai * M + mi; };
    auto rat = [&](int64_t t, int64_t ai, int64_t mi) { return (t * K + k) * AM + ai * M + mi; };
    double* const recall_k = recall;  // (T, K, A, M), written in place
    // An area range without ground truth stays -1; every other entry is written below.
    for (int64_t ai = 0; ai < A; ++ai) {
      if (rec.npig[k * A + ai] != 0) continue;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t mi = 0; mi < M; ++mi) {
          recall_k[rat(t, ai, mi)] = -1.0;
          for (int64_t r = 0; r < R; ++r) prec_k[at(t, r, ai, mi)] = scores_k[at(t, r, ai, mi)] = -1.0;
        }
    }
    // Threshold by threshold (the outermost loop), so that the block's rows of one threshold
    // (R entries per (area, maxDet)) are filled while their cache lines are at hand.
    for (int64_t t = 0; t < T; ++t)
    for (int64_t mi = 0; mi < M; ++mi) {
      const int64_t nd = nd_of[mi];
      if (!own[mi]) {  // the same detections as the previous maxDet: the same values
        for (int64_t ai = 0; ai < A; ++ai) {
          recall_k[rat(t, ai, mi)] = recall_k[rat(t, ai, mi - 1)];
          for (int64_t r = 0; r < R; ++r) {
            prec_k[at(t, r, ai, mi)] = prec_k[at(t, r, ai, mi - 1)];
            scores_k[at(t, r, ai, mi)] = scores_k[at(t, r, ai, mi - 1)];
          }
        }
        continue;
      }
      const std::vector<double>& sc = kept_score[mi];
      for (int64_t ai = 0; ai < A; ++ai) {
        const int64_t npig = rec.npig[k * A + ai];
        if (npig == 0) continue;
        const int64_t* need = need_of.data() + ai * R;
        {
          const uint8_t* st = rows[mi].data() + (ai * T + t) * nd;
          // Precision only changes upwards at a true positive, so the envelope (the running
          // maximum from the right) is the suffix maximum over true positives: record where
          // each true positive is and how many false positives precede it.
          int64_t ntp = 0, nfp = 0;
          scan_true_positives(st, nd, tp_pos.data(), tp_nfp.data(), ntp, nfp);
          // numpy's division: float(tp) / (float(fp) + float(tp) + eps)
          for (int64_t i = 0; i < ntp; ++i)
            tp_prec[i] = static_cast<double>(i + 1) /
                         (static_cast<double>(tp_nfp[i]) + static_cast<double>(i + 1) + eps);
          const double tp = static_cast<double>(ntp);
          // pycocotools' "if pr[i] > pr[i-1]: pr[i-1] = pr[i]" from the right, as a running
          // maximum (no NaN here: the same values, without a branch that mispredicts)
          for (int64_t i = ntp - 1; i > 0; --i) tp_prec[i - 1] = std::max(tp_prec[i - 1], tp_prec[i]);
          recall_k[rat(t, ai, mi)] = nd ? tp / static_cast<double>(npig) : 0.0;
          bool reached = true;
          double* precision_r = prec_k + at(t, 0, ai, mi);
          double* scores_r = scores_k + at(t, 0, ai, mi);
          for (int64_t r = 0; r < R; ++r) {
            const int64_t out = r * kBlock * AM;
            const int64_t c = need[r];
            // A recall never reached stops pycocotools' loop (an IndexError it catches): this
            // threshold and every later one stay 0, even lower ones if the list is unsorted.
            reached = reached && nd > 0 && c <= ntp;
            if (!reached) {
              precision_r[out] = 0.0;
              scores_r[out] = 0.0;
            } else if (c == 0) {  // the first detection: the envelope over all of them
              precision_r[out] = ntp ? tp_prec[0] : 0.0;
              scores_r[out] = sc[0];
            } else {
              precision_r[out] = tp_prec[c - 1];
              scores_r[out] = sc[tp_pos[c - 1]];
            }
          }
        }
      }
    }
  };
  // Categories in blocks of 4 per task. A category's entries of a (t, r) row of precision and
  // scores, (T, R, K, A, M), are A * M = 12 doubles beside its neighbours': written in place they
  // were single doubles K * A * M apart (7.7 KB for COCO), each row's cache lines visited once
  // per (area, maxDet), and those stores took half of accumulate's time. The block's rows are
  // built in a scratch first and copied out whole, 4 * A * M contiguous doubles per (t, r), which
  // also keeps the threads off each other's cache lines. (Blocks of 8: a scratch of 1.5 MB,
  // beyond L2, and 10 tasks for 80 categories; 4: 0.3 ms less on 2 threads, 2 no better.)
  parallel_for_each((K + kBlock - 1) / kBlock, [&](int64_t block) {
    const int64_t k0 = block * kBlock, nb = std::min(K, k0 + kBlock) - k0;
    // kept per thread between calls: fresh pages for the 0.8 MB would cost more than the copy saves
    thread_local std::vector<double> prec, score;
    prec.resize(static_cast<size_t>(T * R * kBlock * AM));
    score.resize(prec.size());
    for (int64_t kk = 0; kk < nb; ++kk) accumulate_category(k0 + kk, kk, prec.data(), score.data());
    for (int64_t tr = 0; tr < T * R; ++tr) {
      const double* p = prec.data() + tr * kBlock * AM;
      const double* q = score.data() + tr * kBlock * AM;
      std::copy(p, p + nb * AM, precision + (tr * K + k0) * AM);
      std::copy(q, q + nb * AM, scores + (tr * K + k0) * AM);
    }
  });
}

}  // namespace

namespace {

// Whether v is 0, 1, ..., v.size() - 1 (the positions of every evaluated entry, in order).
bool counts_up(const std::vector<int64_t>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != static_cast<int64_t>(i)) return false;
  return true;
}

}  // namespace

OwnedRecords CocoEval::records(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                               const std::vector<int64_t>& images, int64_t cap) const {
  OwnedRecords r;
  fill_records(cats, areas, images, cap, r, nullptr);
  return r;
}

bool CocoEval::fill_records(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                            const std::vector<int64_t>& images, int64_t cap, OwnedRecords& r,
                            std::vector<int64_t>* where) const {
  if (!state_) throw std::invalid_argument("cvkernels: evaluate() must run before accumulate() or records()");
  const int64_t K = static_cast<int64_t>(cats.size()), A = static_cast<int64_t>(areas.size());
  const int64_t I = static_cast<int64_t>(images.size());
  auto resize = [&](int64_t n) {
    r.cat.resize(n);
    r.image.resize(n);
    r.rank.resize(n);
    r.score.resize(n);
    if (where != nullptr)
      where->resize(n);
    else
      r.state.resize(n * A * T_);
    r.npig.assign(K * A, 0);
  };
  // Record o: detection d of group g, as category position ki and image position ii.
  auto put = [&](int64_t o, int64_t ki, int64_t ii, int64_t g, int64_t d) {
    r.cat[o] = ki;
    r.image[o] = ii;
    r.rank[o] = d;
    r.score[o] = dt_score_[res_off_[g] + d];
    const uint8_t* st = state_.get() + result_at(g, d);
    if (where != nullptr) {  // where the record's state is in state_
      (*where)[o] = result_at(g, d);
      return;
    }
    uint8_t* out = r.state.data() + o * A * T_;
    for (int64_t ai = 0; ai < A; ++ai) std::copy(st + areas[ai] * T_, st + (areas[ai] + 1) * T_, out + ai * T_);
  };
  const int64_t max_det = p_.max_dets.empty() ? 0 : p_.max_dets.back();
  if (K == K_ && I == I_ && cap >= max_det && counts_up(cats) && counts_up(images)) {
    // Every category and image, in evaluated order: the records are evaluate()'s kept
    // detections group by group, as they lie in state_ and dt_score_.
    const int64_t G = static_cast<int64_t>(dt_keep_.size());
    resize(n_records_);
    parallel_for(0, G, 1024, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g)
        for (int64_t d = 0; d < dt_keep_[g]; ++d) put(res_off_[g] + d, group_cat_[g], group_img_[g], g, d);
    });
    for (int64_t g = 0; g < G; ++g)
      for (int64_t ai = 0; ai < A; ++ai) r.npig[group_cat_[g] * A + ai] += npig_[g * A_ + areas[ai]];
    return true;
  }
  // Each category's records go to their own range (sizes first), filled in parallel. visit(ki,
  // f) calls f(ii, g) for the groups of category cats[ki] and image images[ii], ii ascending:
  // for an increasing image list by walking the category's groups (which lie in image order).
  std::vector<int64_t> ii_of(static_cast<size_t>(I_), -1);
  bool increasing = true;
  for (int64_t ii = 0; ii < I; ++ii) {
    increasing = increasing && images[ii] >= 0 && images[ii] < I_ && (ii == 0 || images[ii] > images[ii - 1]);
    if (increasing) ii_of[images[ii]] = ii;
  }
  auto visit = [&](int64_t ki, auto&& f) {
    const int64_t cat = cats[ki];
    if (cat < 0 || cat >= K_) return;
    if (increasing) {
      for (int64_t c = cat_first_[cat]; c < cat_first_[cat + 1]; ++c)
        if (ii_of[group_img_[by_cat_[c]]] >= 0) f(ii_of[group_img_[by_cat_[c]]], by_cat_[c]);
      return;
    }
    for (int64_t ii = 0; ii < I; ++ii) {
      const int64_t g = group_of(cat, images[ii]);
      if (g >= 0) f(ii, g);
    }
  };
  std::vector<int64_t> off(K + 1, 0);
  parallel_for_each(K, [&](int64_t ki) {
    visit(ki, [&](int64_t, int64_t g) { off[ki + 1] += std::min(cap, num_dets(g)); });
  });
  for (int64_t ki = 0; ki < K; ++ki) off[ki + 1] += off[ki];
  resize(off[K]);
  parallel_for_each(K, [&](int64_t ki) {
    int64_t o = off[ki];
    visit(ki, [&](int64_t ii, int64_t g) {
      for (int64_t ai = 0; ai < A; ++ai) r.npig[ki * A + ai] += npig_[g * A_ + areas[ai]];
      const int64_t nd = std::min(cap, num_dets(g));
      for (int64_t d = 0; d < nd; ++d) put(o++, ki, ii, g, d);
    });
  });
  return false;
}

void CocoEval::accumulate(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                          const std::vector<int64_t>& max_dets, const std::vector<int64_t>& images,
                          double* precision, double* recall, double* scores) const {
  // The records without their state, which is read from state_ where evaluate() put it.
  const int64_t cap = max_dets.empty() ? 0 : *std::max_element(max_dets.begin(), max_dets.end());
  OwnedRecords r;
  std::vector<int64_t> where;
  // The records as evaluate() stored them, with every area range in order (the usual call):
  // their states lie record by record in state_.
  const bool contiguous = fill_records(cats, areas, images, cap, r, &where) &&
                          static_cast<int64_t>(areas.size()) == A_ && counts_up(areas);
  accumulate_impl(contiguous, r.view(), static_cast<int64_t>(cats.size()), static_cast<int64_t>(areas.size()),
                  T_, p_.rec_thrs, max_dets, precision, recall, scores,
                  [&](int64_t i, int64_t a) { return state_.get() + where[i] + areas[a] * T_; });
}

void accumulate_records(const MatchRecords& rec, int64_t K, int64_t A, int64_t T,
                        const std::vector<double>& rec_thrs, const std::vector<int64_t>& max_dets,
                        double* precision, double* recall, double* scores) {
  accumulate_impl(true, rec, K, A, T, rec_thrs, max_dets, precision, recall, scores,
                  [&](int64_t i, int64_t a) { return rec.state + (i * A + a) * T; });
}

}  // namespace eval
}  // namespace cvk
