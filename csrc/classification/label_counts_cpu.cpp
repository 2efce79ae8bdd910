// Label counting kernels on the CPU: label_counts.h states the algorithm.
#include "classification/label_counts.h"

#include <algorithm>
#include <vector>

#include "common/thread_pool.h"

namespace cvk {
namespace classification {
namespace {

constexpr int64_t kGrain = 1 << 16;  // samples per slice at least

// The number of slices [0, n) is cut into: at most one per thread, of at least kGrain samples.
int64_t slices(int64_t n) { return std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), n / kGrain)); }

// Runs count(begin, end, totals) on each slice with its own zeroed `width` totals of type T,
// then adds the slices' totals into out in slice order. T is double for weight sums and
// uint32_t for counts (slices hold fewer than 2^32 samples; half the memory of a double, so
// more of a large table stays in cache).
template <class T, class Count>
void sum_slices(int64_t n, int64_t width, double* out, Count&& count) {
  // at most 64 MiB of per-slice totals (a large confusion matrix is counted by fewer threads)
  const int64_t budget = std::max<int64_t>(1, (int64_t(64) << 20) / std::max<int64_t>(1, width * int64_t(sizeof(T))));
  const int64_t parts = std::max(std::min(slices(n), budget), (n >> 31) + 1);
  std::vector<T> totals(static_cast<size_t>(parts * width), T(0));
  parallel_for_each(parts, [&](int64_t s) { count(n * s / parts, n * (s + 1) / parts, totals.data() + s * width); });
  std::fill(out, out + width, 0.0);
  for (int64_t s = 0; s < parts; ++s)
    for (int64_t j = 0; j < width; ++j) out[j] += double(totals[s * width + j]);
}

// sum_slices with uint32_t counts when w is null, double weight sums otherwise: count(begin,
// end, totals, weight_of) where weight_of(i) is 1 or w[i].
template <class Count>
void sum_weighted_slices(const double* w, int64_t n, int64_t width, double* out, Count&& count) {
  if (w)
    sum_slices<double>(n, width, out, [&](int64_t b, int64_t e, double* t) { count(b, e, t, [w](int64_t i) { return w[i]; }); });
  else
    sum_slices<uint32_t>(n, width, out, [&](int64_t b, int64_t e, uint32_t* t) { count(b, e, t, [](int64_t) { return 1u; }); });
}

}  // namespace

void label_range(const int64_t* x, int64_t n, int64_t* lo, int64_t* hi) {
  const int64_t parts = slices(n);
  std::vector<int64_t> los(static_cast<size_t>(parts)), his(static_cast<size_t>(parts));
  parallel_for_each(parts, [&](int64_t s) {
    const int64_t b = n * s / parts, e = n * (s + 1) / parts;
    int64_t l = x[b], h = x[b];
    for (int64_t i = b; i < e; ++i) {
      l = std::min(l, x[i]);
      h = std::max(h, x[i]);
    }
    los[s] = l;
    his[s] = h;
  });
  *lo = *std::min_element(los.begin(), los.end());
  *hi = *std::max_element(his.begin(), his.end());
}

void class_sums(const int64_t* y_true, const int64_t* y_pred, const double* w, int64_t n, int64_t lo, int64_t K,
                double* tp, double* true_sum, double* pred_sum) {
  // totals of one slice: [tp (K) | true (K) | pred (K)]
  std::vector<double> out(static_cast<size_t>(3 * K));
  sum_weighted_slices(w, n, 3 * K, out.data(), [&](int64_t b, int64_t e, auto* t, auto weight_of) {
    const uint64_t k = static_cast<uint64_t>(K);
    for (int64_t i = b; i < e; ++i) {
      const uint64_t a = label_offset(y_true[i], lo), p = label_offset(y_pred[i], lo);
      const auto wi = weight_of(i);
      if (a < k) {
        t[K + a] += wi;
        if (a == p) t[a] += wi;
      }
      if (p < k) t[2 * K + p] += wi;
    }
  });
  std::copy(out.begin(), out.begin() + K, tp);
  std::copy(out.begin() + K, out.begin() + 2 * K, true_sum);
  std::copy(out.begin() + 2 * K, out.end(), pred_sum);
}

void confusion_counts(const int64_t* y_true, const int64_t* y_pred, const double* w, int64_t n, int64_t lo,
                      int64_t K, double* out) {
  sum_weighted_slices(w, n, K * K, out, [&](int64_t b, int64_t e, auto* t, auto weight_of) {
    const uint64_t k = static_cast<uint64_t>(K);
    for (int64_t i = b; i < e; ++i) {
      const uint64_t a = label_offset(y_true[i], lo), p = label_offset(y_pred[i], lo);
      if (a < k && p < k) t[a * k + p] += weight_of(i);
    }
  });
}

void indicator_sums(const uint8_t* y_true, const uint8_t* y_pred, const double* w, int64_t n, int64_t L,
                    bool samplewise, double* tp, double* true_sum, double* pred_sum) {
  if (samplewise) {  // one row per sample: rows are independent, no reduction needed
    parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const uint8_t *t = y_true + i * L, *p = y_pred + i * L;
        int64_t a = 0, s = 0, q = 0;
        for (int64_t j = 0; j < L; ++j) {
          const bool tj = t[j] != 0, pj = p[j] != 0;
          a += tj && pj;
          s += tj;
          q += pj;
        }
        const double wi = w ? w[i] : 1.0;
        tp[i] = a * wi;
        true_sum[i] = s * wi;
        pred_sum[i] = q * wi;
      }
    });
    return;
  }
  std::vector<double> out(static_cast<size_t>(3 * L));
  sum_weighted_slices(w, n, 3 * L, out.data(), [&](int64_t b, int64_t e, auto* acc, auto weight_of) {
    for (int64_t i = b; i < e; ++i) {
      const uint8_t *t = y_true + i * L, *p = y_pred + i * L;
      const auto wi = weight_of(i);
      for (int64_t j = 0; j < L; ++j) {
        const bool tj = t[j] != 0, pj = p[j] != 0;
        if (tj && pj) acc[j] += wi;
        if (tj) acc[L + j] += wi;
        if (pj) acc[2 * L + j] += wi;
      }
    }
  });
  std::copy(out.begin(), out.begin() + L, tp);
  std::copy(out.begin() + L, out.begin() + 2 * L, true_sum);
  std::copy(out.begin() + 2 * L, out.end(), pred_sum);
}

}  // namespace classification
}  // namespace cvk
