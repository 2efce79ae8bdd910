// COCO RLE, pycocotools' algorithms re-expressed (see rle.h). Encoding finds run ends by
// scanning 32 bytes at a time for a change (most of a mask is inside long runs); everything
// else walks the runs. IoU needs only the intersection (the union is |A| + |B| - inter): a
// two-pointer walk over the "on" runs of both masks, from where both have pixels to where
// either ends. Batched entry points thread over masks or pairs.
#include "masks/rle.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace cvk {
namespace rle {
namespace {

// Index of the first byte in [i, n) that differs from v, or n.
inline int64_t next_change(const uint8_t* m, int64_t i, int64_t n, uint8_t v) {
  // Word-at-a-time: 8 bytes equal to v compare as one uint64; inside long runs, 32 bytes per
  // step (one branch for four words keeps the loop fast wherever the compiler places it).
  const uint64_t pattern = 0x0101010101010101ULL * v;
  while (i + 32 <= n) {
    uint64_t x0, x1, x2, x3;
    std::memcpy(&x0, m + i, 8);
    std::memcpy(&x1, m + i + 8, 8);
    std::memcpy(&x2, m + i + 16, 8);
    std::memcpy(&x3, m + i + 24, 8);
    if ((x0 ^ pattern) | (x1 ^ pattern) | (x2 ^ pattern) | (x3 ^ pattern)) break;
    i += 32;
  }
  while (i + 8 <= n) {
    uint64_t x;
    std::memcpy(&x, m + i, 8);
    const uint64_t diff = x ^ pattern;
    if (diff) return i + (__builtin_ctzll(diff) >> 3);
    i += 8;
  }
  while (i < n && m[i] == v) ++i;
  return i;
}

}  // namespace

std::vector<Rle> encode(const uint8_t* masks, int64_t h, int64_t w, int64_t n) {
  std::vector<Rle> out(static_cast<size_t>(n));
  const int64_t a = h * w;
  for (int64_t k = 0; k < n; ++k) {
    const uint8_t* m = masks + k * a;
    Rle& r = out[k];
    r.h = h;
    r.w = w;
    uint8_t v = 0;
    int64_t i = 0;
    for (;;) {
      const int64_t e = next_change(m, i, a, v);
      r.cnts.push_back(static_cast<uint32_t>(e - i));
      if (e >= a) break;
      v = m[e];
      i = e;
    }
  }
  return out;
}

void decode(const std::vector<Rle>& rs, uint8_t* out) {
  for (const Rle& r : rs) {
    uint8_t v = 0;
    for (uint32_t c : r.cnts) {
      std::memset(out, v, c);
      out += c;
      v = !v;
    }
  }
}

std::string to_string(const Rle& r) {
  std::string s;
  s.reserve(r.cnts.size() * 2);
  for (size_t i = 0; i < r.cnts.size(); ++i) {
    int64_t x = r.cnts[i];
    if (i > 2) x -= static_cast<int64_t>(r.cnts[i - 2]);
    bool more = true;
    while (more) {
      char c = static_cast<char>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative deltas end at -1
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

bool from_string(const char* s, size_t n, int64_t h, int64_t w, Rle& out, std::string& why) {
  // Most numbers are one character (a delta of -16..15 from the run two before: an object's
  // boundary moves little from column to column), so that case is a short predictable branch;
  // longer numbers (and any bad character) take the loop that checks each character. The two
  // runs a delta builds on are kept in registers rather than read back from the array.
  out.h = h;
  out.w = w;
  out.cnts.resize(n);  // at most one run per character
  uint32_t* cnts = out.cnts.data();
  size_t m = 0, p = 0;
  uint64_t total = 0;
  int64_t two_before = 0, one_before = 0;
  while (p < n) {
    int64_t x;
    const int c = static_cast<unsigned char>(s[p]) - 48;
    if (c >= 0 && c < 32) {  // one valid character without continuation: 5 bits, the top one the sign
      x = (c & 0x1f) - ((c & 0x10) << 1);
      ++p;
    } else {
      x = 0;
      for (int k = 0, more = 1; more; ++k) {
        if (p >= n) {
          why = "truncated number";
          return false;
        }
        const int d = static_cast<unsigned char>(s[p]) - 48;
        if (d < 0 || d > 63) {
          why = "character outside '0'..'o'";
          return false;
        }
        if (k > 12) {
          why = "number too long";
          return false;
        }
        x |= static_cast<int64_t>(d & 0x1f) << (5 * k);
        more = d & 0x20;
        ++p;
        if (!more && (d & 0x10)) x |= static_cast<int64_t>(-1) * (int64_t(1) << (5 * (k + 1)));
      }
    }
    if (m > 2) x += two_before;
    if (x < 0 || x > 0xffffffffLL) {
      why = "a run length out of range";
      return false;
    }
    cnts[m++] = static_cast<uint32_t>(x);
    total += static_cast<uint64_t>(x);
    two_before = one_before;
    one_before = x;
  }
  out.cnts.resize(m);
  if (total != static_cast<uint64_t>(h * w)) {
    why = "run lengths add up to " + std::to_string(total) + ", not h*w = " + std::to_string(h * w);
    return false;
  }
  return true;
}

uint64_t area(const Rle& r) {
  uint64_t a = 0;
  for (size_t j = 1; j < r.cnts.size(); j += 2) a += r.cnts[j];
  return a;
}

void to_bbox(const Rle& r, double* bb) {
  // pycocotools' rleToBbox (2.0.8+): walk the (background, foreground) run pairs; a pair whose
  // foreground run is empty moves the position but marks nothing. A foreground run that ends in
  // a later column than it starts covers every row. With no foreground the unsigned
  // differences wrap exactly as pycocotools' do (w = 0 - w + 1, ...), and so does the position,
  // a 32-bit unsigned sum as in pycocotools.
  // pycocotools divides each run's start and end by h; here the quotient is a multiply-shift
  // (Lemire, Kaser & Kurz 2019: with M = ceil(2^64 / h), floor(c / h) = (M * c) >> 64 for every
  // 32-bit c and h > 1), whose runs do not wait on each other as divisions would.
  const uint32_t h = static_cast<uint32_t>(r.h), w = static_cast<uint32_t>(r.w);
  const size_t m = (r.cnts.size() / 2) * 2;
  if (m == 0 || h == 0) {
    bb[0] = bb[1] = bb[2] = bb[3] = 0;
    return;
  }
  const uint64_t M = h > 1 ? ~uint64_t(0) / h + 1 : 0;
  auto column = [&](uint32_t c) {
    return h > 1 ? static_cast<uint32_t>((static_cast<unsigned __int128>(M) * c) >> 64) : c;
  };
  uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0;
  for (size_t j = 0; j < m; j += 2) {
    cc += r.cnts[j];
    if (r.cnts[j + 1] == 0) continue;
    const uint32_t x0 = column(cc), y0 = cc - x0 * h;
    cc += r.cnts[j + 1];
    const uint32_t t = cc - 1, x1 = column(t), y1 = t - x1 * h;
    if (x0 < x1) {
      ys = 0;
      ye = h - 1;
    }
    xs = std::min(xs, x0);
    xe = std::max(xe, x1);
    ys = std::min({ys, y0, y1});
    ye = std::max({ye, y0, y1});
  }
  bb[0] = xs;
  bb[2] = static_cast<double>(static_cast<uint32_t>(xe - xs + 1));
  bb[1] = ys;
  bb[3] = static_cast<double>(static_cast<uint32_t>(ye - ys + 1));
}

Rle merge(const std::vector<const Rle*>& rs, bool intersect) {
  Rle out;
  if (rs.empty()) return out;
  out = *rs[0];
  for (size_t i = 1; i < rs.size(); ++i) {
    const Rle& B = *rs[i];
    if (B.h != out.h || B.w != out.w) return Rle{};  // pycocotools: an empty 0 x 0 result
    const Rle A = out;
    std::vector<uint32_t> cnts;
    uint32_t ca = A.cnts.empty() ? 0 : A.cnts[0], cb = B.cnts.empty() ? 0 : B.cnts[0];
    bool v = false, va = false, vb = false;
    size_t a = 1, b = 1;
    uint32_t cc = 0, ct = 1;
    while (ct > 0) {
      const uint32_t c = std::min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.cnts.size()) {
        ca = A.cnts[a++];
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < B.cnts.size()) {
        cb = B.cnts[b++];
        vb = !vb;
      }
      ct += cb;
      const bool vp = v;
      v = intersect ? (va && vb) : (va || vb);
      if (v != vp || ct == 0) {
        cnts.push_back(cc);
        cc = 0;
      }
    }
    out.cnts = std::move(cnts);
  }
  return out;
}

void iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt, const uint8_t* crowd,
         double* out) {
  std::vector<const Rle*> d, g;
  for (const Rle& r : dt) d.push_back(&r);
  for (const Rle& r : gt) g.push_back(&r);
  iou(d.data(), d.size(), g.data(), g.size(), crowd, out);
}

namespace {

// The "on" runs of a mask as [start, end) pixel intervals (column-major), in order.
struct OnRuns {
  std::vector<uint32_t> start, end;
  uint64_t area = 0;
};

OnRuns on_runs(const Rle& r) {
  OnRuns o;
  const size_t n = r.cnts.size();
  o.start.resize(n / 2);  // at most one "on" run per (off, on) pair
  o.end.resize(n / 2);
  size_t k = 0;
  uint32_t pos = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    pos += r.cnts[i];
    const uint32_t len = r.cnts[i + 1];
    o.start[k] = pos;  // kept only when the run is not empty
    o.end[k] = pos + len;
    k += len > 0;
    o.area += len;
    pos += len;
  }
  o.start.resize(k);
  o.end.resize(k);
  return o;
}

// |A & B| by a two-pointer walk over the on-runs of both, starting (binary search) at the
// first run of each that ends after the other's first run starts, and stopping when either
// list is done: the walk covers the region where both masks have pixels, nothing else.
uint64_t intersection(const OnRuns& A, const OnRuns& B) {
  if (A.start.empty() || B.start.empty()) return 0;
  size_t i = std::upper_bound(A.end.begin(), A.end.end(), B.start[0]) - A.end.begin();
  size_t j = std::upper_bound(B.end.begin(), B.end.end(), A.start[0]) - B.end.begin();
  uint64_t inter = 0;
  while (i < A.start.size() && j < B.start.size()) {
    const uint32_t lo = std::max(A.start[i], B.start[j]), hi = std::min(A.end[i], B.end[j]);
    inter += hi > lo ? hi - lo : 0;
    if (A.end[i] < B.end[j])
      ++i;
    else
      ++j;
  }
  return inter;
}

}  // namespace

void iou(const Rle* const* dtp, size_t D, const Rle* const* gtp, size_t G, const uint8_t* crowd,
         double* out, const double* dt_box, const double* gt_box) {
  struct View {  // dt[d] / gt[g] as references
    const Rle* const* p;
    const Rle& operator[](size_t i) const { return *p[i]; }
  } dt{dtp}, gt{gtp};
  std::vector<double> db, gb;
  if (dt_box == nullptr) {
    db.resize(4 * D);
    for (size_t d = 0; d < D; ++d) to_bbox(dt[d], &db[4 * d]);
    dt_box = db.data();
  }
  if (gt_box == nullptr) {
    gb.resize(4 * G);
    for (size_t g = 0; g < G; ++g) to_bbox(gt[g], &gb[4 * g]);
    gt_box = gb.data();
  }
  std::vector<OnRuns> don(D), gon(G);  // built when a pair first needs them
  std::vector<uint8_t> dready(D, 0), gready(G, 0);
  for (size_t d = 0; d < D; ++d)
    for (size_t g = 0; g < G; ++g) {
      const bool cr = crowd && crowd[g];
      double& o = out[d * G + g];
      // Bounding boxes first (pycocotools' bbIou, crowd-aware): no overlap, no work.
      const double* A = dt_box + 4 * d;
      const double* B = gt_box + 4 * g;
      o = 0;
      const double bw = std::fmin(A[2] + A[0], B[2] + B[0]) - std::fmax(A[0], B[0]);
      if (bw <= 0) continue;
      const double bh = std::fmin(A[3] + A[1], B[3] + B[1]) - std::fmax(A[1], B[1]);
      if (bh <= 0) continue;
      if (dt[d].h != gt[g].h || dt[d].w != gt[g].w) {
        o = -1;
        continue;
      }
      if (!dready[d]) don[d] = on_runs(dt[d]), dready[d] = 1;
      if (!gready[g]) gon[g] = on_runs(gt[g]), gready[g] = 1;
      // pycocotools' rleIou: inter / |A | B| (crowd: inter / |A|), 0 without intersection;
      // all counts are uint32 there, and |A | B| = |A| + |B| - inter.
      const uint32_t inter = static_cast<uint32_t>(intersection(don[d], gon[g]));
      uint32_t uni = static_cast<uint32_t>(don[d].area + gon[g].area - inter);
      if (inter == 0) {
        uni = 1;
      } else if (cr) {
        uni = static_cast<uint32_t>(don[d].area);
      }
      o = static_cast<double>(inter) / static_cast<double>(uni);
    }
}

Rle from_polygon(const double* xy, int64_t k, int64_t h, int64_t w) {
  // Upsample 5x and walk every edge pixel by pixel along its longer axis.
  const double scale = 5;
  std::vector<int> x(k + 1), y(k + 1);
  for (int64_t j = 0; j < k; ++j) x[j] = static_cast<int>(scale * xy[2 * j] + .5);
  for (int64_t j = 0; j < k; ++j) y[j] = static_cast<int>(scale * xy[2 * j + 1] + .5);
  x[k] = x[0];
  y[k] = y[0];
  std::vector<int> u, v;
  for (int64_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    const double s = dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    if (dx >= dy) {
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        u.push_back(t + xs);
        v.push_back(static_cast<int>(ys + s * t + .5));
      }
    } else {
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        v.push_back(t + ys);
        u.push_back(static_cast<int>(xs + s * t + .5));
      }
    }
  }
  // Where the boundary crosses a column centre, back at 1x: the first row inside.
  std::vector<uint32_t> a;
  for (size_t j = 1; j < u.size(); ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1);
    xd = (xd + .5) / scale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(w - 1)) continue;
    double yd = static_cast<double>(v[j] < v[j - 1] ? v[j] : v[j - 1]);
    yd = (yd + .5) / scale - .5;
    if (yd < 0) {
      yd = 0;
    } else if (yd > static_cast<double>(h)) {
      yd = static_cast<double>(h);
    }
    yd = std::ceil(yd);
    a.push_back(static_cast<uint32_t>(static_cast<int>(xd) * static_cast<int>(h) + static_cast<int>(yd)));
  }
  // Crossings sorted, as differences; zero-length runs merged into the next.
  a.push_back(static_cast<uint32_t>(h * w));
  std::sort(a.begin(), a.end());
  uint32_t p = 0;
  for (uint32_t& t : a) {
    const uint32_t cur = t;
    t -= p;
    p = cur;
  }
  Rle r;
  r.h = h;
  r.w = w;
  size_t j = 0;
  r.cnts.push_back(a[j++]);
  while (j < a.size()) {
    if (a[j] > 0) {
      r.cnts.push_back(a[j++]);
    } else {
      ++j;
      if (j < a.size()) r.cnts.back() += a[j++];
    }
  }
  return r;
}

Rle from_bbox(const double* bb, int64_t h, int64_t w) {
  const double xs = bb[0], xe = xs + bb[2], ys = bb[1], ye = ys + bb[3];
  const double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
  return from_polygon(xy, 4, h, w);
}

}  // namespace rle
}  // namespace cvk
