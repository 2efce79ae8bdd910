// Ranking metrics on the CPU: ranking.h states the algorithm.
#include "classification/ranking.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "common/radix_sort.h"
#include "common/thread_pool.h"

namespace cvk {
namespace classification {
namespace {

// One binary problem's samples as sort keys: positives at the front of `keys`, negatives at
// the back (so one n-long buffer holds both), with their weights in `wts` when weighted.
template <class K>
struct Split {
  K* keys;
  double* wts;  // null when unweighted
  int64_t n;
  int64_t np = 0, nn = 0;
  double wpos = 0, wneg = 0;  // weight totals (counts when unweighted)

  // Branch-free (positive or not is a coin flip to the branch predictor): the key is written
  // at both ends and only one end's counter moves on.
  void add(K key, bool positive, double weight) {
    const int64_t at_pos = np, at_neg = n - 1 - nn;
    keys[at_pos] = key;
    keys[at_neg] = key;
    if (wts) {
      wts[at_pos] = weight;
      wts[at_neg] = weight;
    }
    np += positive;
    nn += !positive;
    if (wts) {
      wpos += positive ? weight : 0.0;
      wneg += positive ? 0.0 : weight;
    }
  }
  // The totals (weight sums, or the counts when unweighted); call once all samples are in.
  void finish() {
    if (!wts) {
      wpos = double(np);
      wneg = double(nn);
    }
  }
  K* pos() const { return keys; }
  K* neg() const { return keys + (n - nn); }
  double* pos_w() const { return wts; }
  double* neg_w() const { return wts ? wts + (n - nn) : nullptr; }
};

// Calls visit(key, tps, fps) for each distinct key from the largest down, with the cumulative
// positive and negative totals down to and including that key. P and Q are sorted ascending;
// Count is int64_t (unweighted: exact counts) or double (weight sums). Keys are never 0 (that
// would be a NaN's key), so 0 stands for "list exhausted". The unweighted merge is branch-free.
template <class Count, class K, class Visit>
void walk(const K* P, const double* wp, int64_t np, const K* Q, const double* wq, int64_t nq, Visit&& visit) {
  int64_t i = np, j = nq;
  Count tp = 0, fp = 0;
  while (i > 0 || j > 0) {
    const K a = i > 0 ? P[i - 1] : 0, b = j > 0 ? Q[j - 1] : 0;
    const bool from_p = a >= b;
    const K v = from_p ? a : b;
    if (wp) {
      if (from_p)
        tp += Count(wp[--i]);
      else
        fp += Count(wq[--j]);
    } else {
      tp += from_p;
      fp += !from_p;
      i -= from_p;
      j -= !from_p;
    }
    const K a2 = i > 0 ? P[i - 1] : 0, b2 = j > 0 ? Q[j - 1] : 0;
    if (a2 != v && b2 != v) visit(v, tp, fp);  // the last sample of score v is in
  }
}

// ROC AUC, partial AUC and average precision of one split (sorted), from one walk.
template <class Count, class Area, class K>
void summarize(const Split<K>& s, double max_fpr, double* auc, double* pauc, double* ap) {
  RankSummary<Count, Area> sum(s.wpos, s.wneg, max_fpr, pauc != nullptr);
  walk<Count>(s.pos(), s.pos_w(), s.np, s.neg(), s.neg_w(), s.nn, [&](K, Count tp, Count fp) { sum.step(tp, fp); });
  sum.finish(auc, pauc, ap);
}

template <class K>
void sort_split(Split<K>& s, K* ktmp, double* wtmp) {
  radix_sort(s.pos(), ktmp, s.pos_w(), wtmp, static_cast<size_t>(s.np));
  radix_sort(s.neg(), ktmp, s.neg_w(), wtmp, static_cast<size_t>(s.nn));
}

// The same, the positives and the negatives on two threads when both lists are large (the
// scratch buffers hold n entries: each list uses its own part).
template <class K>
void sort_split_parallel(Split<K>& s, K* ktmp, double* wtmp) {
  if (std::min(s.np, s.nn) < 65536) return sort_split(s, ktmp, wtmp);
  parallel_for_each(2, [&](int64_t which) {
    if (which == 0)
      radix_sort(s.pos(), ktmp, s.pos_w(), wtmp, static_cast<size_t>(s.np));
    else
      radix_sort(s.neg(), ktmp + s.np, s.neg_w(), wtmp ? wtmp + s.np : nullptr, static_cast<size_t>(s.nn));
  });
}

}  // namespace

template <class F>
int64_t binary_curve(const F* score, const uint8_t* pos, const double* w, int64_t n, F* thresholds, double* tps,
                     double* fps) {
  using K = typename KeyOf<F>::type;
  std::vector<K> keys(static_cast<size_t>(n)), ktmp(static_cast<size_t>(n));
  std::vector<double> wts(w ? n : 0), wtmp(w ? n : 0);
  Split<K> s{keys.data(), w ? wts.data() : nullptr, n};
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(score[i])) return -1;
    if (w && w[i] == 0) continue;  // zero weight: no threshold of its own (sklearn drops it)
    s.add(float_key(score[i]), pos[i] != 0, w ? w[i] : 1.0);
  }
  s.finish();
  sort_split_parallel(s, ktmp.data(), w ? wtmp.data() : nullptr);
  int64_t k = 0;
  auto emit = [&](K v, auto tp, auto fp) {
    thresholds[k] = key_float<F>(v);
    tps[k] = double(tp);
    fps[k] = double(fp);
    ++k;
  };
  if (w)
    walk<double>(s.pos(), s.pos_w(), s.np, s.neg(), s.neg_w(), s.nn, emit);
  else
    walk<int64_t>(s.pos(), nullptr, s.np, s.neg(), nullptr, s.nn, emit);
  return k;
}

template <class F>
int ranking_columns(const F* score, int64_t N, int64_t C, const int64_t* labels, const uint8_t* indicator,
                    const double* w, double max_fpr, double* npos, double* nneg, double* auc, double* pauc,
                    double* ap) {
  using K = typename KeyOf<F>::type;
  constexpr int64_t kBlock = 16;  // 16 float32 scores = one cache line of a row
  const int64_t nblocks = (C + kBlock - 1) / kBlock;
  std::atomic<int> status{kRankingOk};
  parallel_for(0, nblocks, 1, [&](int64_t b0, int64_t b1) {
    // Buffers for one block, reused by every block of this chunk.
    const int64_t width = std::min<int64_t>(kBlock, C);
    std::vector<K> keys(static_cast<size_t>(width * N)), ktmp(static_cast<size_t>(N));
    std::vector<double> wts(w ? width * N : 0), wtmp(w ? N : 0);
    std::vector<Split<K>> splits;
    for (int64_t b = b0; b < b1 && status.load(std::memory_order_relaxed) == kRankingOk; ++b) {
      const int64_t c0 = b * kBlock, nc = std::min(kBlock, C - c0);
      splits.clear();
      for (int64_t c = 0; c < nc; ++c)
        splits.push_back(Split<K>{keys.data() + c * N, w ? wts.data() + c * N : nullptr, N});
      const K lo_inf = float_key(-std::numeric_limits<F>::infinity()), hi_inf = float_key(std::numeric_limits<F>::infinity());
      bool finite = true;
      for (int64_t i = 0; i < N; ++i) {
        if (w && w[i] == 0) continue;
        const double wi = w ? w[i] : 1.0;
        const F* row = score + i * C + c0;
        for (int64_t c = 0; c < nc; ++c) {
          const K k = float_key(row[c]);
          finite &= (k > lo_inf) & (k < hi_inf);  // NaN keys lie beyond the infinities
          const bool p = labels ? labels[i] == c0 + c : indicator[i * C + c0 + c] != 0;
          splits[c].add(k, p, wi);
        }
      }
      for (Split<K>& sp : splits) sp.finish();
      if (!finite) {
        status = kRankingNonFinite;
        return;
      }
      for (int64_t c = 0; c < nc; ++c) {
        Split<K>& s = splits[c];
        if (C == 1)  // one column: its two lists sort on two threads
          sort_split_parallel(s, ktmp.data(), w ? wtmp.data() : nullptr);
        else
          sort_split(s, ktmp.data(), w ? wtmp.data() : nullptr);
        const int64_t col = c0 + c;
        npos[col] = s.wpos;
        nneg[col] = s.wneg;
        double *a = auc ? auc + col : nullptr, *pa = pauc ? pauc + col : nullptr, *q = ap ? ap + col : nullptr;
        if (w)
          summarize<double, double>(s, max_fpr, a, pa, q);
        else if (N < (int64_t(1) << 31))  // 2 P N < 2^62
          summarize<int64_t, uint64_t>(s, max_fpr, a, pa, q);
        else
          summarize<int64_t, unsigned __int128>(s, max_fpr, a, pa, q);
      }
    }
  });
  return status.load();
}

template <class F>
void topk_hits(const F* score, const int64_t* labels, int64_t N, int64_t C, int64_t k, uint8_t* hit) {
  parallel_for(0, N, 512, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const F* row = score + i * C;
      const int64_t y = labels[i];
      const F own = row[y];
      int64_t above = 0;
      for (int64_t j = 0; j < C; ++j) above += (row[j] > own) | ((row[j] == own) & (j > y));
      hit[i] = above < k;
    }
  });
}

#define CVK_INSTANTIATE(F)                                                                                     \
  template int64_t binary_curve<F>(const F*, const uint8_t*, const double*, int64_t, F*, double*, double*);    \
  template int ranking_columns<F>(const F*, int64_t, int64_t, const int64_t*, const uint8_t*, const double*,  \
                                  double, double*, double*, double*, double*, double*);                     \
  template void topk_hits<F>(const F*, const int64_t*, int64_t, int64_t, int64_t, uint8_t*);
CVK_INSTANTIATE(float)
CVK_INSTANTIATE(double)
#undef CVK_INSTANTIATE

}  // namespace classification
}  // namespace cvk
