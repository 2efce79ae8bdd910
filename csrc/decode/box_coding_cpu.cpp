// Box coding on the CPU (box_coding.h): encode / decode of many boxes in parallel, and the
// fused per-level post-processing of single-stage detectors (RetinaNet): scores above a
// threshold, their top k, and only those k boxes decoded and clipped.
//
// decode_topk: one pass over the (N, C) logits compares each with the threshold moved to logit
// space (a logit a hair below it is checked through the sigmoid itself, so the kept set is the
// one sigmoid(x) > t gives); the candidates' top k by nth_element + sort (ties by flat index);
// O(N C + P + k log k) for P candidates, against torchvision's sigmoid of every logit, boolean
// indexing, topk and gathers.
#include "decode/box_coding_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "common/radix_sort.h"
#include "common/thread_pool.h"
#include "decode/box_coding.h"
#include "decode/yolo.h"

namespace cvk {
namespace decode {
namespace {

// Puts the topk best candidates (each with a score s and a flat index i) first in cand, by
// descending score, ties by index; returns how many there are (min(topk, cand.size())). Many
// float candidates that arrive in index order are ranked by a radix sort of packed (score,
// position) keys (position order is index order then); the rest by comparisons.
template <class Cand>
int64_t rank_candidates(std::vector<Cand>& cand, int64_t topk) {
  const int64_t nc = static_cast<int64_t>(cand.size()), k = std::min<int64_t>(topk, nc);
  auto by_index = [](const Cand& a, const Cand& b) { return a.i < b.i; };
  if (std::is_same<decltype(Cand::s), float>::value && nc > 2048 && nc < (int64_t(1) << 32) &&
      std::is_sorted(cand.begin(), cand.end(), by_index)) {
    std::vector<uint64_t> key(static_cast<size_t>(nc)), tmp(static_cast<size_t>(nc));
    for (int64_t j = 0; j < nc; ++j) key[j] = (uint64_t(~float_key(float(cand[j].s))) << 32) | uint64_t(j);
    radix_sort(key.data(), tmp.data(), nullptr, nullptr, static_cast<size_t>(nc));
    std::vector<Cand> ranked(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) ranked[j] = cand[key[j] & 0xffffffffu];
    cand.swap(ranked);
    return k;
  }
  auto before = [](const Cand& a, const Cand& b) { return a.s > b.s || (a.s == b.s && a.i < b.i); };
  if (nc > k) std::nth_element(cand.begin(), cand.begin() + k, cand.end(), before);
  std::sort(cand.begin(), cand.begin() + k, before);
  return k;
}

}  // namespace

template <class T>
void decode_boxes(const T* deltas, const T* anchors, int64_t n, const T* w, T clip, T* out) {
  parallel_for(0, n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) decode_box(deltas + 4 * i, anchors + 4 * i, w, clip, out + 4 * i);
  });
}

template <class T>
void encode_boxes(const T* boxes, const T* refs, int64_t n, const T* w, T* out) {
  parallel_for(0, n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) encode_box(boxes + 4 * i, refs + 4 * i, w, out + 4 * i);
  });
}

template <class T>
int64_t decode_topk(const T* logits, const T* deltas, const T* anchors, int64_t N, int64_t C, double score_thresh,
                    int64_t topk, const T* w, T clip, T img_h, T img_w, T* boxes, T* scores, int64_t* labels,
                    int64_t* anchor_idx) {
  using std::exp;
  // sigmoid(x) > t  <=>  x > log(t / (1 - t)), up to rounding: a margin below, then the exact test.
  const double t = score_thresh;
  const double lt = t <= 0 ? -INFINITY : (t >= 1 ? INFINITY : std::log(t / (1 - t)));
  const T low = static_cast<T>(lt - 1e-3 * (1 + std::fabs(lt)));
  const T thr = static_cast<T>(score_thresh);
  if (topk <= 0) return 0;
  const int64_t total = N * C, chunk = 1 << 16, chunks = (total + chunk - 1) / chunk;
  // Candidates are ranked by logit first (the logistic is monotone), and the logistic is
  // computed only for those that can still make the top k: a chunk keeps its k largest logits
  // and every logit whose logistic could tie with the k-th's (a margin below it where the
  // logistic is strictly smaller), then the chunks' survivors are pruned the same way. The
  // final order is the exact one, by (score descending, flat index).
  struct Lc {
    T x;
    int64_t i;
  };
  auto by_logit = [](const Lc& a, const Lc& b) { return a.x > b.x || (a.x == b.x && a.i < b.i); };
  auto sig = [](T x) { return T(1) / (T(1) + exp(-x)); };
  auto floor_below = [&](T L) -> T {  // a logit whose logistic is strictly below sig(L)
    T m = static_cast<T>(1e-3) * (T(1) + std::fabs(L));
    for (int it = 0; it < 256; ++it, m *= T(2))
      if (sig(L - m) < sig(L)) return L - m;
    return -std::numeric_limits<T>::infinity();
  };
  auto prune = [&](std::vector<Lc>& v) {  // afterwards, with k or more left, v[k - 1] is the k-th
    if (static_cast<int64_t>(v.size()) < topk) return;
    std::nth_element(v.begin(), v.begin() + (topk - 1), v.end(), by_logit);
    const T fl = floor_below(v[topk - 1].x);
    v.erase(std::remove_if(v.begin() + topk, v.end(), [&](const Lc& e) { return !(e.x > fl); }), v.end());
  };
  std::vector<std::vector<Lc>> part(static_cast<size_t>(chunks));
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    // Once a chunk holds k candidates, nothing at or below the floor of its k-th can make the
    // top k of all: the later chunks of this thread compare with that floor instead of low.
    T cut = low;
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t e = std::min(total, (c + 1) * chunk);
      for (int64_t b = c * chunk; b < e; b += 64) {
        // blocks of 64 logits: a branch-free test first (most blocks hold no candidate)
        const int64_t be = std::min(e, b + 64);
        int hit = 0;
        for (int64_t i = b; i < be; ++i) hit |= logits[i] > cut;
        if (!hit) continue;
        for (int64_t i = b; i < be; ++i)
          if (logits[i] > cut) part[c].push_back({logits[i], i});
      }
      prune(part[c]);
      if (static_cast<int64_t>(part[c].size()) >= topk) cut = std::max(cut, floor_below(part[c][topk - 1].x));
    }
  });
  std::vector<Lc> kept;
  for (auto& p : part) kept.insert(kept.end(), p.begin(), p.end());
  prune(kept);
  struct Cand {
    T s;
    int64_t i;
  };
  std::vector<Cand> cand;
  cand.reserve(kept.size());
  for (const Lc& e : kept) {
    const T sc = sig(e.x);
    if (sc > thr) cand.push_back({sc, e.i});
  }
  const int64_t k = rank_candidates(cand, topk);
  for (int64_t j = 0; j < k; ++j) {
    const int64_t a = cand[j].i / C;
    scores[j] = cand[j].s;
    labels[j] = cand[j].i % C;
    anchor_idx[j] = a;
    T* b = boxes + 4 * j;
    decode_box(deltas + 4 * a, anchors + 4 * a, w, clip, b);
    if (img_w >= T(0)) {  // torchvision's clip_boxes_to_image: clamp(min=0, max=size)
      for (int q = 0; q < 4; ++q) {
        const T hi = (q % 2 == 0) ? img_w : img_h;
        b[q] = b[q] < T(0) ? T(0) : (b[q] > hi ? hi : b[q]);
      }
    }
  }
  return k;
}

// decode_yolo: one pass over the cells tests the objectness in logit space (as decode_topk
// does: sig(obj) must exceed conf_thres for any class score to), computes the class scores of
// the cells that pass, keeps the best class; then top k and only their boxes decoded.
template <class T>
int64_t decode_yolo(const T* pred, const T* anchors, int64_t A, int64_t H, int64_t W, int64_t C, T stride, bool v5,
                    double conf_thres, int64_t topk, T* boxes, T* scores, int64_t* labels, int64_t* index) {
  const double t = conf_thres;
  const double lt = t <= 0 ? -INFINITY : (t >= 1 ? INFINITY : std::log(t / (1 - t)));
  const T low = static_cast<T>(lt - 1e-3 * (1 + std::fabs(lt)));
  const T thr = static_cast<T>(conf_thres);
  const int64_t cells = A * H * W, no = 5 + C, chunk = 4096, chunks = (cells + chunk - 1) / chunk;
  struct Cand {
    T s;
    int64_t i, c;
  };
  std::vector<std::vector<Cand>> part(static_cast<size_t>(chunks));
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch)
      for (int64_t i = ch * chunk, e = std::min(cells, (ch + 1) * chunk); i < e; ++i) {
        const T* p = pred + i * no;
        if (!(p[4] > low)) continue;
        const T obj = logistic(p[4]);
        if (!(obj > thr)) continue;  // every class score is at most obj
        // The best score belongs to the largest class logit m (the logistic and the product are
        // monotone); classes a margin below m cannot tie with it unless the products saturate,
        // so only the classes near m get a logistic (all of them where the products saturate:
        // the first equal product wins, as torch's max).
        T m = p[5];
        bool nan = false;
        for (int64_t c = 0; c < C; ++c) {
          m = p[5 + c] > m ? p[5 + c] : m;
          nan |= !(p[5 + c] == p[5 + c]);
        }
        if (nan) continue;  // torch's max is NaN then, and NaN is no candidate
        const T near = m - static_cast<T>(1e-3) * (T(1) + std::fabs(m));
        const bool all = !(logistic(near) * obj < logistic(m) * obj);
        T best = -T(1);
        int64_t label = 0;
        for (int64_t c = 0; c < C; ++c) {
          if (!all && !(p[5 + c] >= near)) continue;
          const T s = logistic(p[5 + c]) * obj;
          if (s > best) {
            best = s;
            label = c;
          }
        }
        if (best > thr) part[ch].push_back({best, i, label});
      }
  });
  std::vector<Cand> cand;
  for (auto& pc : part) cand.insert(cand.end(), pc.begin(), pc.end());
  const int64_t k = rank_candidates(cand, topk);
  parallel_for(0, k, 1024, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t i = cand[j].i, a = i / (H * W), y = (i / W) % H, x = i % W;
      yolo_box(pred + i * no, T(x), T(y), anchors[2 * a], anchors[2 * a + 1], stride, v5, boxes + 4 * j);
      scores[j] = cand[j].s;
      labels[j] = cand[j].c;
      index[j] = i;
    }
  });
  return k;
}

#define CVK_INSTANTIATE(T)                                                                                    \
  template void decode_boxes<T>(const T*, const T*, int64_t, const T*, T, T*);                                \
  template void encode_boxes<T>(const T*, const T*, int64_t, const T*, T*);                                   \
  template int64_t decode_topk<T>(const T*, const T*, const T*, int64_t, int64_t, double, int64_t, const T*, T, \
                                  T, T, T*, T*, int64_t*, int64_t*);
CVK_INSTANTIATE(float)
CVK_INSTANTIATE(double)
#undef CVK_INSTANTIATE
template int64_t decode_yolo<float>(const float*, const float*, int64_t, int64_t, int64_t, int64_t, float, bool, double,
                                    int64_t, float*, float*, int64_t*, int64_t*);
template int64_t decode_yolo<double>(const double*, const double*, int64_t, int64_t, int64_t, int64_t, double, bool,
                                     double, int64_t, double*, double*, int64_t*, int64_t*);

}  // namespace decode
}  // namespace cvk
