// CPU non-maximum suppression: nms, batched (per-class) nms, soft-NMS and the fixed-shape
// multi-image multi-class op.
//
// Greedy NMS, as defined: visit boxes in decreasing score order (ties: lower index first; a
// NaN score ranks lowest); a box is kept unless a box kept before it has IoU > threshold with
// it. The kept boxes go into a uniform grid (nms_grid.h), so each box is tested only against
// kept boxes in the cells it covers: O(n log n) for the sort plus O(n * kept boxes nearby),
// instead of the O(n * kept) of a scan over the whole kept list. Per-class and per-image sets
// are independent and run on the thread pool, largest first, and are merged by score.
//
// Soft-NMS (Bodla et al. 2017): repeatedly select the highest current score (ties: lower
// index), then rescale the scores of the boxes overlapping it (gaussian exp(-iou^2/sigma), or
// linear 1 - iou above the IoU threshold) and drop those below score_threshold. A max-heap of
// score upper bounds (lazy decrease-key) finds the next selection; the grid finds the boxes
// that overlap it. Cost: O(n log n + selections * boxes stored near each selection). On CPUs
// with AVX-512 or AVX2, float32 soft-NMS instead runs as a vectorized scan over x1-sorted lanes
// (soft_scan.h), which gives the same bits about 5x faster.
#include "nms/nms_cpu.h"

#include <cmath>
#include <algorithm>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <vector>

#include "common/cpu_features.h"
#include "common/cvk.h"
#include "common/thread_pool.h"
#include "nms/nms_grid.h"
#include "nms/nms_math.h"
#include "nms/soft_scan.h"

namespace cvk {
namespace nms {
namespace {

// (key, id) with key = score (NaN -> -inf): the order of every NMS variant.
template <class T>
struct Ranked {
  T key;
  int64_t id;
};

template <class T>
bool ranks_before(const Ranked<T>& a, const Ranked<T>& b) {
  return a.key > b.key || (a.key == b.key && a.id < b.id);
}

// Greedy NMS of m candidates already in rank order: box[p], reported as ids[p]. Writes at most
// max_keep kept ids into keep, returns the count.
template <class T>
int64_t greedy(const Box<T>* box, const int64_t* ids, int64_t m, double thr, int64_t max_keep,
               int64_t* keep) {
  const T t = typed_threshold<T>(thr);
  Grid<T> grid(box, m, /*brute=*/thr < 0);
  int64_t nk = 0;
  for (int64_t p = 0; p < m && nk < max_keep; ++p) {
    const Box<T>& b = box[p];
    const bool suppressed = grid.any_near(b, [&](int32_t q) { return iou(box[q], b) > t; });
    if (!suppressed) {
      keep[nk++] = ids[p];
      grid.insert(static_cast<int32_t>(p), b);
    }
  }
  return nk;
}

// One candidate set in rank order, gathered from the caller's arrays.
template <class T>
struct RankedSet {
  std::vector<Box<T>> box;
  std::vector<int64_t> id;
};

template <class T>
RankedSet<T> gather(const T* boxes, const T* scores, std::vector<int64_t> members) {
  std::vector<Ranked<T>> r(members.size());
  for (size_t k = 0; k < members.size(); ++k) r[k] = {score_key(scores[members[k]]), members[k]};
  std::sort(r.begin(), r.end(), ranks_before<T>);
  RankedSet<T> s;
  s.box.resize(r.size());
  s.id.resize(r.size());
  for (size_t k = 0; k < r.size(); ++k) {
    s.box[k] = boxes::iou_box(boxes + 4 * r[k].id);
    s.id[k] = r[k].id;
  }
  return s;
}

// Members of each class (class ids in any int64 values), largest class first.
std::vector<std::vector<int64_t>> split_by_class(const int64_t* idxs, int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return idxs[a] < idxs[b]; });
  std::vector<std::vector<int64_t>> groups;
  for (int64_t s = 0; s < n;) {
    int64_t e = s + 1;
    while (e < n && idxs[order[e]] == idxs[order[s]]) ++e;
    groups.emplace_back(order.begin() + s, order.begin() + e);
    s = e;
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return groups;
}

template <class T>
void order_by_score(const T* scores, int64_t* ids, int64_t k) {
  std::vector<Ranked<T>> r(k);
  for (int64_t i = 0; i < k; ++i) r[i] = {score_key(scores[ids[i]]), ids[i]};
  std::sort(r.begin(), r.end(), ranks_before<T>);
  for (int64_t i = 0; i < k; ++i) ids[i] = r[i].id;
}

template <class T>
int64_t nms_typed(const T* boxes, const T* scores, int64_t n, double thr, int64_t* keep) {
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), int64_t(0));
  const RankedSet<T> s = gather(boxes, scores, std::move(all));
  return greedy(s.box.data(), s.id.data(), n, thr, n, keep);
}

template <class T>
int64_t batched_typed(const T* boxes, const T* scores, const int64_t* idxs, int64_t n,
                      double thr, int64_t* keep) {
  const auto groups = split_by_class(idxs, n);
  std::vector<std::vector<int64_t>> kept(groups.size());
  parallel_for_each(static_cast<int64_t>(groups.size()), [&](int64_t g) {
    const RankedSet<T> s = gather(boxes, scores, groups[g]);
    const int64_t m = static_cast<int64_t>(s.id.size());
    kept[g].resize(m);
    kept[g].resize(greedy(s.box.data(), s.id.data(), m, thr, m, kept[g].data()));
  });
  int64_t total = 0;
  for (const auto& k : kept) {
    std::copy(k.begin(), k.end(), keep + total);
    total += static_cast<int64_t>(k.size());
  }
  order_by_score(scores, keep, total);
  return total;
}

// Soft-NMS of one class: members in increasing index order. Appends (decayed score, id).
template <class T>
void soft_one(const T* boxes, const T* scores, const std::vector<int64_t>& members, T thr,
              T sigma, T score_thr, int method, std::vector<Ranked<T>>& out) {
  const int64_t m = static_cast<int64_t>(members.size());
  std::vector<Box<T>> box(m);
  std::vector<T> score(m);
  std::vector<uint8_t> alive(m);
  std::vector<int64_t> stamp(m, -1);
  for (int64_t p = 0; p < m; ++p) {
    box[p] = boxes::iou_box(boxes + 4 * members[p]);
    score[p] = scores[members[p]];
    alive[p] = score[p] >= score_thr;  // NaN never passes
  }
  // The soft weight at IoU 0 is exactly 1, so only intersecting boxes ever change, whatever
  // the IoU threshold: the grid (never brute) finds all of them.
  Grid<T> grid(box.data(), m, /*brute=*/false);
  struct Entry {
    T score;
    int64_t p;
  };
  auto lower = [](const Entry& a, const Entry& b) {  // max-heap: higher score, then lower p
    return a.score < b.score || (a.score == b.score && a.p > b.p);
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(lower)> heap(lower);
  for (int64_t p = 0; p < m; ++p) {
    if (!alive[p]) continue;
    grid.insert(static_cast<int32_t>(p), box[p]);
    heap.push({score[p], p});
  }
  // Lazy decrease-key: a box's heap entry holds an upper bound of its score (weights are in
  // [0, 1]). When the top entry is stale, it goes back in with the current score; when it is
  // current, no other box can score higher (every bound is below it) or equal with a lower
  // index (it would have been on top first).
  int64_t round = 0;
  while (!heap.empty()) {
    const Entry e = heap.top();
    heap.pop();
    if (!alive[e.p]) continue;
    if (e.score != score[e.p]) {
      heap.push({score[e.p], e.p});
      continue;
    }
    alive[e.p] = 0;
    out.push_back({score[e.p], members[e.p]});
    const Box<T>& a = box[e.p];
    grid.any_near(a, [&](int32_t q) {
      if (!alive[q] || stamp[q] == round) return false;
      stamp[q] = round;
      const T o = iou(a, box[q]);
      if (o > T(0)) {
        const T before = score[q];
        score[q] *= soft_weight(method, o, thr, sigma);
        if (!(score[q] >= score_thr)) {
          alive[q] = 0;
        } else if (score[q] > before) {  // cannot happen (weights <= 1); keeps bounds valid
          heap.push({score[q], q});
        }
      }
      return false;
    });
    ++round;
  }
}

// The same soft-NMS of one class as a streaming scan over structure-of-arrays lanes
// (soft_scan.h; float32 with AVX-512 or AVX2): the same selections and the same score bits.
void soft_one_lanes(const float* boxes, const float* scores, const std::vector<int64_t>& members,
                    float thr, float sigma, float score_thr, int method,
                    std::vector<Ranked<float>>& out) {
  // Lanes in increasing x1. A box with a non-finite coordinate overlaps nothing (its IoU with
  // any box is 0 or NaN): it goes last, with x1 = +inf so the order holds and no test passes.
  struct Lane {
    Box<float> b;
    float score;
    int32_t member;
  };
  std::vector<Lane> in;
  double max_w = 0;  // the widest finite box bounds how far left an overlapping box can start
  for (int64_t p = 0; p < static_cast<int64_t>(members.size()); ++p) {
    const float sc = scores[members[p]];
    if (!(sc >= score_thr)) continue;  // NaN never passes
    Box<float> b = boxes::iou_box(boxes + 4 * members[p]);
    if (finite_box(b))
      max_w = std::max(max_w, double(b.x2) - double(b.x1));
    else
      b.x1 = INFINITY;
    in.push_back({b, sc, static_cast<int32_t>(p)});
  }
  std::sort(in.begin(), in.end(), [](const Lane& u, const Lane& v) {
    return u.b.x1 < v.b.x1 || (u.b.x1 == v.b.x1 && u.member < v.member);
  });
  auto padded = [](int64_t n) { return (n + kSoftLanes - 1) / kSoftLanes * kSoftLanes; };
  int64_t m = padded(static_cast<int64_t>(in.size()));
  std::vector<float> store(6 * m, NAN), hits(2 * (m + kSoftLanes));
  std::vector<int32_t> member(m, -1), hit_pos(m + kSoftLanes);
  const SoftLanes L{store.data(),         store.data() + m,     store.data() + 2 * m,
                    store.data() + 3 * m, store.data() + 4 * m, store.data() + 5 * m,
                    member.data(),        hit_pos.data(),       hits.data(),
                    hits.data() + m + kSoftLanes};
  float* const cols[6] = {L.x1, L.y1, L.x2, L.y2, L.area, L.score};
  std::fill(L.x1, L.x1 + m, INFINITY);  // the padding (dead: NaN score) stays sorted too
  for (size_t l = 0; l < in.size(); ++l) {
    L.x1[l] = in[l].b.x1;
    L.y1[l] = in[l].b.y1;
    L.x2[l] = in[l].b.x2;
    L.y2[l] = in[l].b.y2;
    L.area[l] = in[l].b.area;
    L.score[l] = in[l].score;
    L.member[l] = in[l].member;
  }
  int64_t dead = m - static_cast<int64_t>(in.size());
  // Drops the dead lanes, keeping the order.
  auto compact = [&] {
    int64_t w = 0;
    for (int64_t r = 0; r < m; ++r) {
      if (std::isnan(L.score[r])) continue;
      for (float* c : cols) c[w] = c[r];
      L.member[w++] = L.member[r];
    }
    const int64_t mw = padded(w);
    for (float* c : cols) std::fill(c + w, c + mw, NAN);
    std::fill(L.x1 + w, L.x1 + mw, INFINITY);
    std::fill(L.member + w, L.member + mw, -1);
    dead = mw - w;
    m = mw;
  };
  // Slack on the left end of the window, for the rounding of x1 - max_w.
  const double slack = 1e-6 * max_w;
  const auto scan = use_avx512() ? avx512::soft_scan : avx2::soft_scan;
  float a[5] = {0, 0, 0, 0, 0};
  int64_t best = scan(L, m, a, 0, 0, method, thr, sigma, score_thr, &dead);
  while (best >= 0) {
    out.push_back({L.score[best], members[L.member[best]]});
    a[0] = L.x1[best];
    a[1] = L.y1[best];
    a[2] = L.x2[best];
    a[3] = L.y2[best];
    a[4] = L.area[best];
    L.score[best] = NAN;
    ++dead;
    if (2 * dead >= m && m > kSoftLanes) compact();
    // Only boxes with a.x1 - max_w < x1 < a.x2 can overlap a (none if a is not finite, as its
    // x1 is +inf then).
    const double from = double(a[0]) - max_w - slack - 1e-6 * std::fabs(double(a[0]));
    const int64_t lo = std::lower_bound(L.x1, L.x1 + m, from,
                                        [](float x, double v) { return double(x) < v; }) - L.x1;
    const int64_t hi = std::lower_bound(L.x1, L.x1 + m, a[2]) - L.x1;
    best = scan(L, m, a, lo, std::max(lo, hi), method, thr, sigma, score_thr, &dead);
  }
}

template <class T>
int64_t soft_typed(const T* boxes, const T* scores, const int64_t* idxs, int64_t n,
                   double thr, double sigma, double score_thr, int method, int64_t* keep,
                   T* new_scores) {
  std::vector<std::vector<int64_t>> groups;
  if (idxs != nullptr) {
    groups = split_by_class(idxs, n);
  } else {
    groups.emplace_back(n);
    std::iota(groups[0].begin(), groups[0].end(), int64_t(0));
  }
  std::vector<std::vector<Ranked<T>>> sel(groups.size());
  parallel_for_each(static_cast<int64_t>(groups.size()), [&](int64_t g) {
    if constexpr (std::is_same<T, float>::value) {
      if (use_avx512() || use_avx2()) {
        soft_one_lanes(boxes, scores, groups[g], static_cast<T>(thr), static_cast<T>(sigma),
                       static_cast<T>(score_thr), method, sel[g]);
        return;
      }
    }
    soft_one<T>(boxes, scores, groups[g], static_cast<T>(thr), static_cast<T>(sigma),
                static_cast<T>(score_thr), method, sel[g]);
  });
  std::vector<Ranked<T>> all;
  for (const auto& s : sel) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end(), ranks_before<T>);
  for (size_t i = 0; i < all.size(); ++i) {
    keep[i] = all[i].id;
    new_scores[i] = all[i].key;
  }
  return static_cast<int64_t>(all.size());
}

template <class T>
void multiclass_typed(const T* boxes, const T* scores, int64_t B, int64_t N, int64_t C,
                      bool per_class, double score_thr, double iou_thr, int64_t max_per_class,
                      int64_t max_total, bool agnostic, int64_t* num_det, T* out_boxes,
                      T* out_scores, int64_t* out_classes) {
  const int64_t K = max_total;
  std::fill(out_boxes, out_boxes + B * K * 4, T(0));
  std::fill(out_scores, out_scores + B * K, T(0));
  std::fill(out_classes, out_classes + B * K, int64_t(-1));
  std::fill(num_det, num_det + B, int64_t(0));
  if (B == 0 || N == 0 || C == 0 || K == 0) return;
  // A candidate is (n, c) with score > score_thr, id n * C + c.
  auto box_of = [&](int64_t b, int64_t id) {
    return per_class ? boxes + 4 * (b * N * C + id) : boxes + 4 * (b * N + id / C);
  };
  auto score_of = [&](int64_t b, int64_t id) { return scores[b * N * C + id]; };
  // NMS of the candidates of image b with class in [c_lo, c_hi); at most cap kept ids.
  auto run_set = [&](int64_t b, int64_t c_lo, int64_t c_hi, int64_t cap) {
    std::vector<Ranked<T>> cand;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = c_lo; c < c_hi; ++c) {
        const T s = score_of(b, n * C + c);
        if (static_cast<double>(s) > score_thr) cand.push_back({s, n * C + c});  // NaN fails
      }
    std::sort(cand.begin(), cand.end(), ranks_before<T>);
    const int64_t m = static_cast<int64_t>(cand.size());
    std::vector<Box<T>> box(m);
    std::vector<int64_t> ids(m), kept(std::min(cap, m));
    for (int64_t p = 0; p < m; ++p) {
      box[p] = boxes::iou_box(box_of(b, cand[p].id));
      ids[p] = cand[p].id;
    }
    kept.resize(greedy(box.data(), ids.data(), m, iou_thr, cap, kept.data()));
    return kept;
  };
  auto write = [&](int64_t b, std::vector<Ranked<T>>& dets) {
    std::sort(dets.begin(), dets.end(), ranks_before<T>);
    const int64_t k = std::min<int64_t>(K, static_cast<int64_t>(dets.size()));
    num_det[b] = k;
    for (int64_t i = 0; i < k; ++i) {
      const T* bx = box_of(b, dets[i].id);
      std::copy(bx, bx + 4, out_boxes + (b * K + i) * 4);
      out_scores[b * K + i] = dets[i].key;
      out_classes[b * K + i] = dets[i].id % C;
    }
  };
  if (agnostic) {
    parallel_for_each(B, [&](int64_t b) {
      std::vector<Ranked<T>> dets;
      for (int64_t id : run_set(b, 0, C, K)) dets.push_back({score_of(b, id), id});
      write(b, dets);
    });
    return;
  }
  std::vector<std::vector<int64_t>> kept(B * C);
  if (max_per_class > 0) {
    parallel_for_each(B * C, [&](int64_t bc) {
      kept[bc] = run_set(bc / C, bc % C, bc % C + 1, max_per_class);
    });
  }
  parallel_for_each(B, [&](int64_t b) {
    std::vector<Ranked<T>> dets;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t id : kept[b * C + c]) dets.push_back({score_of(b, id), id});
    write(b, dets);
  });
}

}  // namespace

int64_t nms_cpu(int dtype, const void* boxes, const void* scores, int64_t n, double iou_thr,
                int64_t* keep) {
  return dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    return nms_typed<T>(static_cast<const T*>(boxes), static_cast<const T*>(scores), n, iou_thr,
                        keep);
  });
}

int64_t batched_nms_cpu(int dtype, const void* boxes, const void* scores, const int64_t* idxs,
                        int64_t n, double iou_thr, int64_t* keep) {
  return dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    return batched_typed<T>(static_cast<const T*>(boxes), static_cast<const T*>(scores), idxs, n,
                            iou_thr, keep);
  });
}

int64_t soft_nms_cpu(int dtype, const void* boxes, const void* scores, const int64_t* idxs,
                     int64_t n, double iou_thr, double sigma, double score_thr, int method,
                     int64_t* keep, void* new_scores) {
  if (method != 0 && method != 1)
    throw std::invalid_argument("cvkernels: soft-NMS method must be 0 (gaussian) or 1 (linear)");
  return dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    return soft_typed<T>(static_cast<const T*>(boxes), static_cast<const T*>(scores), idxs, n,
                         iou_thr, sigma, score_thr, method, keep, static_cast<T*>(new_scores));
  });
}

void multiclass_nms_cpu(int dtype, const void* boxes, const void* scores, int64_t B, int64_t N,
                        int64_t C, bool boxes_per_class, double score_thr, double iou_thr,
                        int64_t max_per_class, int64_t max_total, bool class_agnostic,
                        int64_t* num_det, void* out_boxes, void* out_scores,
                        int64_t* out_classes) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    multiclass_typed<T>(static_cast<const T*>(boxes), static_cast<const T*>(scores), B, N, C,
                        boxes_per_class, score_thr, iou_thr, max_per_class, max_total,
                        class_agnostic, num_det, static_cast<T*>(out_boxes),
                        static_cast<T*>(out_scores), out_classes);
  });
}

}  // namespace nms
}  // namespace cvk
