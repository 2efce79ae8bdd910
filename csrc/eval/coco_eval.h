// COCO evaluation (pycocotools' COCOeval.evaluate + accumulate; bbox, segm, keypoints), on columnar
// arrays. The Python layer (cvkernels.coco) turns annotations into these arrays, runs this, and
// summarizes with numpy exactly as pycocotools does.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "eval/match.h"
#include "masks/rle.h"

namespace cvk {
namespace eval {

// A std::vector whose resize() leaves the new elements uninitialised, for arrays that the
// code after it fills entirely (in parallel, first touching their pages in the threads that
// fill them): zeroing the evaluator's 8 MB of group arrays first took a quarter of its setup.
template <class T>
struct NoInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  NoInitAllocator() = default;
  template <class U>
  NoInitAllocator(const NoInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T>
using Uninit = std::vector<T, NoInitAllocator<T>>;

struct CocoParams {
  std::vector<double> iou_thrs;           // T
  std::vector<double> rec_thrs;           // R
  std::vector<double> area_lo, area_hi;   // A ranges, inclusive
  std::vector<int64_t> max_dets;          // M, ascending
};

// One side (ground truth or detections), columnar. img / cat are indices into the evaluated
// image and category lists (cat is 0 for every annotation when categories are not used);
// annotations outside those lists are dropped by the caller. box is (x, y, w, h). Inside an
// (image, category) group, annotations are taken in array order, which the caller makes
// pycocotools' order (dataset order; by category first when categories are not used): it
// decides ties between equal scores and equal IoUs.
struct Annotations {
  int64_t n = 0;
  const int64_t* img = nullptr;
  const int64_t* cat = nullptr;
  const double* box = nullptr;
  const double* area = nullptr;
  const uint8_t* crowd = nullptr;   // ground truth only
  const uint8_t* ignore = nullptr;  // optional. Ground truth: ignored besides crowds (keypoints:
                                    // no labelled keypoint). Detections: ignored wherever they
                                    // match nothing (LVIS: a not-exhaustive category's image)
  const double* score = nullptr;    // detections only
};

// What accumulate needs of evaluate, one record per detection kept (each image's detections of
// a category cut to the largest maxDet): all that travels between processes when evaluation is
// sharded by image. Arrays of n, except state (n, A, T) and npig (K, A).
struct MatchRecords {
  int64_t n = 0;
  const int64_t* cat = nullptr;    // category position, 0..K-1
  const int64_t* image = nullptr;  // image position: equal scores are taken in image order
  const int64_t* rank = nullptr;   // rank by score inside its (category, image)
  const double* score = nullptr;
  const uint8_t* state = nullptr;  // kMatched | kIgnored per (area range, IoU threshold)
  const int64_t* npig = nullptr;   // non-ignored ground truth per (category, area range)
};
constexpr uint8_t kMatched = 1, kIgnored = 2;

// The records of every requested category, area range and image, owned.
struct OwnedRecords {
  std::vector<int64_t> cat, image, rank;
  std::vector<double> score;
  std::vector<uint8_t> state;
  std::vector<int64_t> npig;
  MatchRecords view() const {
    return {static_cast<int64_t>(cat.size()), cat.data(), image.data(), rank.data(),
            score.data(), state.data(), npig.data()};
  }
};

// pycocotools' accumulate on records: precision, scores (T, R, K, A, M) and recall (T, K, A, M),
// C order, every entry written (-1 where a category has no ground truth in an area range);
// M = max_dets.size().
void accumulate_records(const MatchRecords& rec, int64_t K, int64_t A, int64_t T,
                        const std::vector<double>& rec_thrs, const std::vector<int64_t>& max_dets,
                        double* precision, double* recall, double* scores);

// Per-image matching (evaluateImg for every image, category and area range) and the
// accumulation into precision / recall / scores.
class CocoEval {
 public:
  CocoEval(CocoParams params, int64_t num_images, int64_t num_cats, Annotations gt,
           Annotations dt);

  // Segmentation: IoU of masks (one RLE per annotation, same order as gt / dt) instead of
  // boxes, with each mask's box (rle::to_bbox, 4 doubles) when they were computed once (empty
  // box vectors: computed per group). The RLEs and boxes must outlive the evaluator.
  void use_masks(std::vector<const rle::Rle*> gt, std::vector<const rle::Rle*> dt,
                 std::vector<const double*> gt_box = {}, std::vector<const double*> dt_box = {}) {
    gt_rle_ = std::move(gt);
    dt_rle_ = std::move(dt);
    gt_mask_box_ = std::move(gt_box);
    dt_mask_box_ = std::move(dt_box);
  }

  // Keypoints: OKS (oks.h) of (D, 3K) keypoint rows instead of box IoU; the ground truth's box
  // and area enter the OKS. The arrays must outlive the evaluator.
  void use_keypoints(const double* gt_kpts, const double* dt_kpts, std::vector<double> sigmas) {
    gt_kpts_ = gt_kpts;
    dt_kpts_ = dt_kpts;
    sigmas_ = std::move(sigmas);
  }

  // Ground truth ignored besides crowds, detections ignored where unmatched (one flag per
  // annotation; must outlive the evaluator).
  void set_gt_ignore(const uint8_t* ignore) { gt_.ignore = ignore; }
  void set_dt_ignore(const uint8_t* ignore) { dt_.ignore = ignore; }

  // Matches every (category, image) group for every area range and IoU threshold.
  void evaluate();

  // precision, scores: (T, R, K', A', M'), recall: (T, K', A', M'), C order, every entry
  // written, for the category / area / maxDet / image index lists given.
  void accumulate(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                  const std::vector<int64_t>& max_dets, const std::vector<int64_t>& images,
                  double* precision, double* recall, double* scores) const;

  // The match records of the categories, area ranges and images listed (positions in the
  // evaluated lists; the output's cat / image are positions in these lists), detections of
  // rank < cap.
  OwnedRecords records(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                       const std::vector<int64_t>& images, int64_t cap) const;

  // For evalImgs: the group of (cat, img) (-1 when it has neither ground truth nor
  // detections), its detections (indices into dt, score order, truncated to the largest
  // maxDet), its ground truth (indices into gt, group order), and for area a the matched
  // ground-truth position (or -1) and ignore flag per (threshold, detection), and the
  // ground-truth ignore flags.
  int64_t group_of(int64_t cat, int64_t img) const;
  std::vector<int64_t> group_dets(int64_t g) const;
  std::vector<int64_t> group_gts(int64_t g) const;
  std::vector<int32_t> group_match(int64_t g, int64_t a) const;
  std::vector<uint8_t> group_dt_ignore(int64_t g, int64_t a) const;
  std::vector<uint8_t> group_gt_ignore(int64_t g, int64_t a) const;

  int64_t num_cats() const { return K_; }

 private:
  // A group's IoU matrix and flags, recomputed where needed (evalImgs) rather than stored.
  struct GroupScratch {
    std::vector<double> dbox, gbox, iou;
    std::vector<uint8_t> crowd, ignore;
  };
  bool ignored(int64_t i) const { return gt_.crowd[i] || (gt_.ignore != nullptr && gt_.ignore[i]); }
  // Whether detection i, if it matches nothing, is ignored for the area range [lo, hi].
  bool unmatched_ignored(int64_t i, double lo, double hi) const {
    const double ar = dt_.area[i];
    return (ar < lo) | (ar > hi) | (dt_.ignore != nullptr && dt_.ignore[i]);
  }

  // Scratch of evaluate_group: the group's IoU and flags, per area range the ignore flags and the
  // raw matching (before detections outside the range are ignored), the matcher's own.
  struct EvalScratch {
    GroupScratch group;
    std::vector<uint8_t> ignore, dig, matched, outside;
    std::vector<int32_t> match;
    std::vector<uint64_t> ignore_bits;  // per area range, when a group has at most kMatchBits ground truth
    MatchScratch matcher;
  };
  void evaluate_group(int64_t g, EvalScratch& es);
  // records(); with where given, the state is left out and where gets, per record, the offset
  // of its states in state_. True when the records are evaluate()'s groups as they lie (every
  // category and image, nothing cut): record i's states are then at i * A_ * T_ in state_.
  bool fill_records(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                    const std::vector<int64_t>& images, int64_t cap, OwnedRecords& r,
                    std::vector<int64_t>* where) const;
  void load_group(int64_t g, GroupScratch& sc) const;
  // The ignore flag of each ground truth of group g for area range a (into ig, group order);
  // returns how many are not ignored.
  int64_t gt_ignore_flags(int64_t g, int64_t a, uint8_t* ig) const;
  // Matches group g for area range a into match / dig (T x D); returns the non-ignored count.
  int64_t match_area(int64_t g, int64_t a, GroupScratch& sc, int32_t* match, uint8_t* dig) const;
  int64_t num_dets(int64_t g) const { return dt_keep_[g]; }
  // The (area, threshold) states of detection d of group g in state_.
  int64_t result_at(int64_t g, int64_t d) const { return (res_off_[g] + d) * A_ * T_; }

  CocoParams p_;
  int64_t I_, K_, T_, A_;
  Annotations gt_, dt_;
  // Members of each group, flat: gt_idx_[gt_start_[g] .. gt_start_[g+1]) in group order;
  // dt_idx_[dt_start_[g] ..) sorted by score by evaluate(), of which the first dt_keep_[g].
  Uninit<int64_t> gt_start_, gt_idx_, dt_start_, dt_idx_, dt_keep_;
  // Groups are numbered by image, then category (evaluate()'s order): image i's are
  // img_first_[i] .. img_first_[i + 1] - 1. by_cat_: the groups in (category, image) order, the
  // order of the match records; category k's are by_cat_[cat_first_[k] .. cat_first_[k + 1]).
  Uninit<int64_t> img_first_, cat_first_, by_cat_;
  Uninit<int64_t> res_off_;  // group g's first record (records in by_cat_ order)
  int64_t n_records_ = 0;
  Uninit<int32_t> group_cat_, group_img_;  // each group's category and image
  // (group, detection, area, threshold): kMatched | kIgnored bits (a match record's state). The matched ground truth
  // itself is recomputed for evalImgs, so the common path stores one byte, not five.
  std::unique_ptr<uint8_t[]> state_;
  std::unique_ptr<int32_t[]> npig_;  // (group, area): non-ignored ground truth
  std::vector<double> dt_score_;  // (group, detection): the kept detections' scores, in order
  std::vector<const rle::Rle*> gt_rle_, dt_rle_;  // empty: boxes
  std::vector<const double*> gt_mask_box_, dt_mask_box_;  // empty: computed per group
  const double* gt_kpts_ = nullptr;               // null: not keypoints
  const double* dt_kpts_ = nullptr;
  std::vector<double> sigmas_;
};

// pycocotools' bounding-box IoU (maskApi.c bbIou): boxes (x, y, w, h), crowd ground truth
// divides by the detection's area. out[d * G + g].
void bbox_iou_xywh(const double* dt, int64_t D, const double* gt, int64_t G,
                   const uint8_t* crowd, double* out);

}  // namespace eval
}  // namespace cvk
