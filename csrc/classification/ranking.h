// Ranking metrics of binary problems (ROC and precision-recall curves, ROC AUC, average
// precision), as scikit-learn defines them (sklearn.metrics._ranking).
//
// Algorithm, per binary problem (one score column and which samples are positive):
//   1. Split the samples into positives and negatives, each a list of order-preserving
//      integer keys of the scores (common/radix_sort.h; samples of weight 0 are dropped, as
//      scikit-learn drops them), and sort both lists with a radix sort.
//   2. Walk both lists from the largest score down, one distinct score at a time: the
//      counts (or weight sums) of positives and negatives at that score extend the cumulative
//      true positives tps and false positives fps. Each distinct score is one threshold of
//      scikit-learn's curves (its `_binary_clf_curve` after the stable sort and np.diff).
//   3. From the walk: the ROC AUC by the trapezoid rule over (fps / N, tps / P) (unweighted:
//      exact in integers, one rounding at the end), the partial AUC up to max_fpr with
//      McClish's correction, and average precision sum_k (R_k - R_{k-1}) P_k (the step sum,
//      not the trapezoid).
// Cost: O(n) memory and a few linear passes per problem (the radix sort), instead of the
// O(n log n) argsort and the n-long cumulative sums of the Python version. Many columns
// (one-vs-rest, multilabel) are handled in blocks of 16 so that each row's scores are read
// once from one cache line, and the blocks run in parallel.
#pragma once

#include <math.h>

#include <cstdint>

#include "common/cvk.h"

namespace cvk {
namespace classification {

// Step 3 of one binary problem, shared by the CPU's merge walk and the GPU's scan of sorted
// scores: step(tp, fp) once per distinct score from the largest down, with the cumulative
// positive and negative totals down to and including it; then finish(). Count is int64_t
// (unweighted) or double (weight sums); Area is the type of twice the area under the
// un-normalised curve (fps, tps): uint64_t or unsigned __int128 for counts (exact; at most
// 2 P N), double for weight sums. P, N: the positive and negative totals.
template <class Count, class Area>
struct RankSummary {
  double P, N, max_fpr;
  bool partial;  // whether the partial AUC up to max_fpr is wanted and defined
  bool part_done;  // the partial AUC is complete (or not wanted)
  Area area2 = 0;
  Count tp_prev = 0, fp_prev = 0;
  double ap_sum = 0, part = 0, x_prev = 0, y_prev = 0;

  CVK_HD RankSummary(double P_, double N_, double max_fpr_, bool want_partial)
      : P(P_), N(N_), max_fpr(max_fpr_), partial(want_partial && max_fpr_ > 0 && max_fpr_ < 1 && P_ > 0 && N_ > 0),
        part_done(!partial) {}

  CVK_HD void step(Count tp, Count fp) {
    area2 += Area(fp - fp_prev) * Area(tp + tp_prev);
    // (R_k - R_{k-1}) P_k = (dtp / P) (tp / ps), in one division (a rounding or two away from
    // sklearn's two); 0 when the score holds no positive.
    const double ps = double(tp) + double(fp);
    ap_sum += ps != 0 ? double(tp - tp_prev) * double(tp) / (P * ps) : 0.0;
    if (!part_done) {  // trapezoids in normalised coordinates up to max_fpr, as sklearn adds them
      const double x = double(fp) / N, y = double(tp) / P;
      if (x <= max_fpr) {
        part += (x - x_prev) * (y + y_prev) / 2;
        x_prev = x;
        y_prev = y;
      } else {  // np.interp between the last point kept and this one, then the closing trapezoid
        const double y_at = (y - y_prev) / (x - x_prev) * (max_fpr - x_prev) + y_prev;
        part += (max_fpr - x_prev) * (y_at + y_prev) / 2;
        part_done = true;
      }
    }
    tp_prev = tp;
    fp_prev = fp;
  }

  // auc: NaN without both classes; ap: 0 without positives; pauc (McClish-corrected) only
  // when partial. Any pointer may be null.
  CVK_HD void finish(double* auc, double* pauc, double* ap) const {
    if (auc) *auc = (P > 0 && N > 0) ? double(area2) / (2.0 * P * N) : ::nan("");
    if (ap) *ap = P > 0 ? (0.0 < ap_sum ? ap_sum : 0.0) : 0.0;
    if (partial && pauc) {
      const double min_area = 0.5 * max_fpr * max_fpr, max_area = max_fpr;
      *pauc = 0.5 * (1 + (part - min_area) / (max_area - min_area));
    }
  }
};

// Outcome of the per-column summaries; a column whose scores hold NaN or infinity is an error.
enum RankingStatus : int { kRankingOk = 0, kRankingNonFinite = 1 };

// The curve of one binary problem: score (n), positive flags pos (n, 0 or 1), weights w (n)
// or null. Writes, for each distinct score from the largest down, the score into
// thresholds[k] and the cumulative positive and negative counts (weight sums) into tps[k],
// fps[k] (each array has room for n entries). Returns the number of thresholds, or -1 when a
// score is NaN or infinite.
template <class F>
int64_t binary_curve(const F* score, const uint8_t* pos, const double* w, int64_t n, F* thresholds, double* tps,
                     double* fps);

// Summaries of C binary problems that share one (N, C) row-major score matrix: column c's
// positives are the rows with labels[i] == c (one-vs-rest of class codes; labels non-null) or
// with indicator[i * C + c] != 0 (multilabel). w: (N,) weights or null. For each column writes
// the positive and negative totals (npos, nneg), the ROC AUC (auc, NaN without both classes),
// the partial AUC with McClish's correction when 0 < max_fpr < 1 (pauc; else not written; may
// be null), and the average precision (ap; 0 without positives). Returns a RankingStatus.
template <class F>
int ranking_columns(const F* score, int64_t N, int64_t C, const int64_t* labels, const uint8_t* indicator,
                    const double* w, double max_fpr, double* npos, double* nneg, double* auc, double* pauc,
                    double* ap);

// Top-k hits of an (N, C) score matrix: hit[i] = 1 when fewer than k classes rank above the
// true class labels[i] in row i, a class ranking above when its score is greater, or equal with
// a higher index (scikit-learn's reversed stable argsort). Rows in parallel.
template <class F>
void topk_hits(const F* score, const int64_t* labels, int64_t N, int64_t C, int64_t k, uint8_t* hit);

}  // namespace classification
}  // namespace cvk
