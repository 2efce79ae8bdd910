// CPU mask kernels. Every input is read once, in order:
//   * binary counts: per plane, #(p & t), #p, #t over bytes (vectorized, threads over chunks);
//   * label counts: one pass over two label maps filling per-task confusion matrices (up to
//     64 classes; beyond, (C x 3) histograms);
//   * soft-Dice statistics: blocks of 256 pixels, probabilities (softmax / sigmoid with a
//     vectorized exp) computed in registers and never stored, partial sums per fixed chunk
//     (the same chunks whatever the thread count, so sums are deterministic) reduced in order;
//   * pairwise IoU / Dice: masks packed to bits once, each pair intersects only the words of
//     the rows and columns where both bounding boxes overlap (AND + popcount).
#define CVK_SIMD_NS base
#include "masks/masks_simd_impl.h"
#undef CVK_SIMD_NS

#include <algorithm>
#include <atomic>
#include <vector>

#include "common/cpu_features.h"
#include "common/cvk.h"
#include "common/thread_pool.h"
#include "masks/mask_math.h"

namespace cvk {
namespace masks {
namespace {

#define CVK_SIMD_CALL(fn, ...) (use_avx2() ? avx2::fn(__VA_ARGS__) : base::fn(__VA_ARGS__))

constexpr int64_t kChunk = 1 << 16;  // pixels per task (and per deterministic partial sum)

}  // namespace

void binary_counts(const uint8_t* p, const uint8_t* t, int64_t n, int64_t size, int64_t* inter,
                   int64_t* psum, int64_t* tsum) {
  const int64_t chunks = (size + kChunk - 1) / kChunk;
  std::vector<int64_t> part(static_cast<size_t>(3 * n * std::max<int64_t>(chunks, 1)), 0);
  parallel_for(0, n * chunks, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t plane = i / chunks, c = i % chunks;
      const int64_t s = c * kChunk, e = std::min(size, s + kChunk);
      const int64_t o = plane * size + s;
      CVK_SIMD_CALL(binary_chunk, p + o, t + o, e - s, &part[3 * i], &part[3 * i + 1], &part[3 * i + 2]);
    }
  });
  for (int64_t plane = 0; plane < n; ++plane) {
    inter[plane] = psum[plane] = tsum[plane] = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t i = plane * chunks + c;
      inter[plane] += part[3 * i];
      psum[plane] += part[3 * i + 1];
      tsum[plane] += part[3 * i + 2];
    }
  }
}

int64_t label_counts(const int64_t* p, const int64_t* t, int64_t N, int64_t size, int64_t C,
                     int64_t ignore_index, int64_t* inter, int64_t* psum, int64_t* tsum,
                     int64_t* bad_value) {
  const int64_t chunks = (size + kChunk - 1) / kChunk;
  const int64_t tasks = N * std::max<int64_t>(chunks, 1);
  std::vector<int64_t> hist(static_cast<size_t>(tasks * 3 * C), 0);  // per task I, P, T (C each)
  std::atomic<int64_t> bad{-1};
  const uint64_t uC = static_cast<uint64_t>(C);
  // Up to 64 classes a task counts into a confusion matrix cm[p << shift | t] (2^shift >= C):
  // one increment per pixel where three histograms take three, with the bins computed for a
  // block of pixels at a time by a branch-free (vectorized) loop; I, P and T are read off its
  // diagonal, rows and columns at the end. Four matrices, for pixels 4k, 4k+1, 4k+2, 4k+3, so
  // that close increments of one bin do not wait for each other's store.
  int shift = 0;
  while ((int64_t(1) << shift) < C) ++shift;
  const bool confusion = shift <= 6;
  const int64_t side = int64_t(1) << shift, bins_total = side * side + 2;
  parallel_for(0, N * chunks, 1, [&](int64_t i0, int64_t i1) {
    constexpr int64_t kBlock = 1024;
    constexpr int kCopies = 4;
    std::vector<uint32_t> cm(confusion ? static_cast<size_t>(kCopies * bins_total) : 0);
    std::vector<uint32_t> bins(confusion ? kBlock : 0);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / chunks, s = (i % chunks) * kChunk, e = std::min(size, s + kChunk);
      int64_t* h = &hist[static_cast<size_t>(i * 3 * C)];
      const int64_t* pp = p + n * size;
      const int64_t* tt = t + n * size;
      // The careful loop: skips ignore_index, reports the first value outside [0, C) and, with
      // hist, counts the rest into the three histograms.
      auto count_checked = [&](int64_t k0, int64_t k1, bool hist) {
        for (int64_t k = k0; k < k1; ++k) {
          const int64_t tv = tt[k];
          if (tv == ignore_index) continue;
          const int64_t pv = pp[k];
          if (static_cast<uint64_t>(tv) >= uC || static_cast<uint64_t>(pv) >= uC) {
            int64_t expected = -1;
            bad.compare_exchange_strong(expected, n * size + k);
            continue;
          }
          if (hist) {
            ++h[C + pv];
            ++h[2 * C + tv];
            h[tv] += pv == tv;
          }
        }
      };
      if (!confusion) {
        count_checked(s, e, true);
        continue;
      }
      std::fill(cm.begin(), cm.end(), 0u);
      for (int64_t b0 = s; b0 < e; b0 += kBlock) {
        const int64_t len = std::min(kBlock, e - b0);
        if (use_avx512())
          avx512::label_bins(pp + b0, tt + b0, len, shift, ignore_index, bins.data());
        else
          CVK_SIMD_CALL(label_bins, pp + b0, tt + b0, len, shift, ignore_index, bins.data());
        uint32_t* c = cm.data();
        int64_t k = 0;
        for (; k + kCopies <= len; k += kCopies)
          for (int u = 0; u < kCopies; ++u) ++c[u * bins_total + bins[k + u]];
        for (; k < len; ++k) ++c[bins[k]];
      }
      // Pixels whose target is ignore_index are dropped: their bin, and their column of the
      // matrix when ignore_index < 2^shift. Any other count outside the C x C corner is a value
      // outside [0, C): the careful loop finds it.
      auto count = [&](int64_t bin) {
        int64_t v = 0;
        for (int u = 0; u < kCopies; ++u) v += cm[u * bins_total + bin];
        return v;
      };
      int64_t invalid = count(invalid_bin(shift));
      for (int64_t a = 0; a < side; ++a)
        for (int64_t b = 0; b < side; ++b) {
          if (b == ignore_index) continue;
          const int64_t v = count(a << shift | b);
          if (a >= C || b >= C) {
            invalid += v;
            continue;
          }
          h[C + a] += v;
          h[2 * C + b] += v;
          if (a == b) h[a] += v;
        }
      if (invalid > 0) count_checked(s, e, false);
    }
  });
  std::fill(inter, inter + N * C, 0);
  std::fill(psum, psum + N * C, 0);
  std::fill(tsum, tsum + N * C, 0);
  for (int64_t i = 0; i < N * chunks; ++i) {
    const int64_t n = i / chunks;
    const int64_t* h = &hist[static_cast<size_t>(i * 3 * C)];
    for (int64_t c = 0; c < C; ++c) {
      inter[n * C + c] += h[c];
      psum[n * C + c] += h[C + c];
      tsum[n * C + c] += h[2 * C + c];
    }
  }
  const int64_t b = bad.load();
  if (b >= 0) {
    const int64_t tv = t[b];
    *bad_value = (static_cast<uint64_t>(tv) >= static_cast<uint64_t>(C)) ? tv : p[b];
  }
  return b;
}

int64_t mixed_counts(const int64_t* labels, const uint8_t* planes, bool labels_are_pred,
                     int64_t N, int64_t size, int64_t C, int64_t* inter, int64_t* psum,
                     int64_t* tsum) {
  for (int64_t i = 0; i < N * size; ++i)
    if (static_cast<uint64_t>(labels[i]) >= static_cast<uint64_t>(C)) return i;
  parallel_for(0, N * C, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / C, c = i % C;
      const int64_t* lab = labels + n * size;
      const uint8_t* pl = planes + i * size;
      int64_t I = 0, L = 0, Q = 0;
      for (int64_t k = 0; k < size; ++k) {
        const int64_t a = lab[k] == c, b = pl[k] != 0;
        I += a & b;
        L += a;
        Q += b;
      }
      inter[i] = I;
      psum[i] = labels_are_pred ? L : Q;
      tsum[i] = labels_are_pred ? Q : L;
    }
  });
  return -1;
}

void argmax_channels(int dtype, const void* x, int64_t N, int64_t C, int64_t size, int64_t* out) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* v = static_cast<const T*>(x);
    const int64_t chunks = (size + kChunk - 1) / kChunk;
    parallel_for(0, N * chunks, 1, [&](int64_t i0, int64_t i1) {
      std::vector<T> best(kChunk);
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / chunks, s = (i % chunks) * kChunk, e = std::min(size, s + kChunk);
        const T* base = v + n * C * size;
        int64_t* o = out + n * size;
        for (int64_t k = s; k < e; ++k) {
          best[k - s] = base[k];
          o[k] = 0;
        }
        for (int64_t c = 1; c < C; ++c) {  // strict >: the first maximum wins ties
          const T* row = base + c * size;
          for (int64_t k = s; k < e; ++k) {
            const bool more = row[k] > best[k - s];
            best[k - s] = more ? row[k] : best[k - s];
            o[k] = more ? c : o[k];
          }
        }
      }
    });
  });
}

void dice_stats(int dtype, const void* x, const int64_t* labels, const void* dense, int64_t N,
                int64_t C, int64_t size, int activation, int64_t ignore_index, double* stats) {
  constexpr int64_t kBlock = 256;
  const int64_t chunks = (size + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<size_t>(N * chunks * 3 * C), 0.0);
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* xv = static_cast<const T*>(x);
    const T* dv = static_cast<const T*>(dense);
    parallel_for(0, N * chunks, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / chunks, s = (i % chunks) * kChunk, e = std::min(size, s + kChunk);
        double* acc = &part[static_cast<size_t>(i * 3 * C)];
        for (int64_t b = s; b < e; b += kBlock) {
          const int64_t len = std::min(kBlock, e - b);
          CVK_SIMD_CALL(dice_stats_block, xv + n * C * size + b, labels ? labels + n * size + b : nullptr,
                        dv ? dv + n * C * size + b : nullptr, size, C, len, activation, ignore_index, acc);
        }
      }
    });
  });
  std::fill(stats, stats + 3 * C, 0.0);
  for (int64_t i = 0; i < N * chunks; ++i)
    for (int64_t k = 0; k < 3 * C; ++k) stats[k] += part[static_cast<size_t>(i * 3 * C + k)];
}

void dice_stats_backward(int dtype, const void* x, const int64_t* labels, const void* dense,
                         int64_t N, int64_t C, int64_t size, int activation, int64_t ignore_index,
                         const double* grad_stats, void* grad_x) {
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (size + kBlock - 1) / kBlock;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* xv = static_cast<const T*>(x);
    const T* dv = static_cast<const T*>(dense);
    T* gv = static_cast<T*>(grad_x);
    parallel_for(0, N * blocks, 64, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / blocks, b = (i % blocks) * kBlock, len = std::min(kBlock, size - b);
        const int64_t o = n * C * size + b;
        CVK_SIMD_CALL(dice_stats_backward_block, xv + o, labels ? labels + n * size + b : nullptr,
                      dv ? dv + o : nullptr, size, C, len, activation, ignore_index, grad_stats, gv + o);
      }
    });
  });
}

void pairwise_masks(const uint8_t* a, int64_t N, const uint8_t* b, int64_t M, int64_t H,
                    int64_t W, bool dice, int dtype, void* out) {
  const int64_t wpr = (W + 63) / 64, words = H * wpr;
  // Packed bits and the bounding box (rows [r0, r1), words [w0, w1)) and area of each mask.
  struct Info {
    int64_t r0, r1, w0, w1, area;
  };
  auto pack = [&](const uint8_t* m, int64_t n, std::vector<uint64_t>& bits, std::vector<Info>& info) {
    bits.assign(static_cast<size_t>(n * words), 0);
    info.resize(n);
    parallel_for(0, n, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        uint64_t* bk = bits.data() + k * words;
        CVK_SIMD_CALL(pack_rows, m + k * H * W, H, W, bk);
        Info in{H, 0, wpr, 0, 0};
        for (int64_t r = 0; r < H; ++r)
          for (int64_t w = 0; w < wpr; ++w) {
            const uint64_t v = bk[r * wpr + w];
            if (!v) continue;
            in.area += __builtin_popcountll(v);
            in.r0 = std::min(in.r0, r);
            in.r1 = std::max(in.r1, r + 1);
            in.w0 = std::min(in.w0, w);
            in.w1 = std::max(in.w1, w + 1);
          }
        info[k] = in;
      }
    });
  };
  std::vector<uint64_t> pa, pb;
  std::vector<Info> ia, ib;
  pack(a, N, pa, ia);
  pack(b, M, pb, ib);
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* o = static_cast<T*>(out);
    parallel_for(0, N, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = 0; j < M; ++j) {
          const Info& x = ia[i];
          const Info& y = ib[j];
          const int64_t r0 = std::max(x.r0, y.r0), r1 = std::min(x.r1, y.r1);
          const int64_t w0 = std::max(x.w0, y.w0), w1 = std::min(x.w1, y.w1);
          const int64_t inter =
              (r0 < r1 && w0 < w1)
                  ? CVK_SIMD_CALL(and_popcount_rect, pa.data() + i * words + r0 * wpr + w0,
                                  pb.data() + j * words + r0 * wpr + w0, r1 - r0, w1 - w0, wpr)
                  : 0;
          const T I = static_cast<T>(inter), A = static_cast<T>(x.area), B = static_cast<T>(y.area);
          o[i * M + j] = dice ? dice_of(I, A, B, T(0), T(0)) : iou_of(I, A, B, T(0), T(0));
        }
    });
  });
}

}  // namespace masks
}  // namespace cvk
