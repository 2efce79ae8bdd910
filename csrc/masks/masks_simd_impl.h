// Inner loops of the mask kernels, compiled for baseline x86-64 (masks_cpu.cpp) and AVX2
// (masks_avx2.cpp); CVK_SIMD_NS names the copy. All are straight loops over contiguous bytes
// or floats that the compiler vectorizes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <vector>

#include "common/fast_math.h"
#include "masks/mask_math.h"
#include "masks/masks_cpu.h"

namespace cvk {
namespace masks {
namespace CVK_SIMD_NS {

// Counts of one chunk of two byte planes (nonzero = set).
void binary_chunk(const uint8_t* __restrict__ p, const uint8_t* __restrict__ t, int64_t n,
                  int64_t* inter, int64_t* psum, int64_t* tsum) {
  int64_t I = 0, P = 0, T = 0;
  int64_t s = 0;
#if defined(__AVX2__)
  // 32 pixels per step, counted in byte lanes (at most 255 steps before they could wrap),
  // then summed into 64-bit lanes with one psadbw: no widening of every byte to 32 bits.
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi8(1);
  __m256i sI = zero, sP = zero, sT = zero;
  while (s + 32 <= n) {
    const int64_t steps = std::min<int64_t>(255, (n - s) / 32);
    __m256i cI = zero, cP = zero, cT = zero;
    for (int64_t j = 0; j < steps; ++j, s += 32) {
      const __m256i a = _mm256_andnot_si256(
          _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + s)), zero), one);
      const __m256i b = _mm256_andnot_si256(
          _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + s)), zero), one);
      cP = _mm256_add_epi8(cP, a);
      cT = _mm256_add_epi8(cT, b);
      cI = _mm256_add_epi8(cI, _mm256_and_si256(a, b));
    }
    sI = _mm256_add_epi64(sI, _mm256_sad_epu8(cI, zero));
    sP = _mm256_add_epi64(sP, _mm256_sad_epu8(cP, zero));
    sT = _mm256_add_epi64(sT, _mm256_sad_epu8(cT, zero));
  }
  alignas(32) int64_t lanes[3][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), sI);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), sP);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), sT);
  for (int l = 0; l < 4; ++l) {
    I += lanes[0][l];
    P += lanes[1][l];
    T += lanes[2][l];
  }
#endif
  for (; s < n; s += 1 << 16) {  // uint32 partial sums vectorize; no overflow
    const int64_t e = s + (1 << 16) < n ? s + (1 << 16) : n;
    uint32_t i32 = 0, p32 = 0, t32 = 0;
    for (int64_t k = s; k < e; ++k) {
      const uint32_t a = p[k] != 0, b = t[k] != 0;
      i32 += a & b;
      p32 += a;
      t32 += b;
    }
    I += i32;
    P += p32;
    T += t32;
  }
  *inter += I;
  *psum += P;
  *tsum += T;
}

// Confusion-matrix bins of label pixels: bins[k] = p << shift | t when both labels are in
// [0, 2^shift); else ignored_bin(shift) when t is ignore_index, else invalid_bin(shift).
// Branch-free (AVX2: four pixels per step with 64-bit compares).
void label_bins(const int64_t* __restrict__ p, const int64_t* __restrict__ t, int64_t len, int shift,
                int64_t ignore_index, uint32_t* __restrict__ bins) {
  const uint64_t high = ~((uint64_t(1) << shift) - 1);
  const uint32_t ignored = ignored_bin(shift), invalid = invalid_bin(shift);
  for (int64_t k = 0; k < len; ++k) {
    const uint64_t pv = static_cast<uint64_t>(p[k]), tv = static_cast<uint64_t>(t[k]);
    const uint32_t in = static_cast<uint32_t>(pv << shift | tv);
    const uint32_t out = t[k] == ignore_index ? ignored : invalid;
    bins[k] = ((pv | tv) & high) == 0 ? in : out;
  }
}

// Packs rows of W bytes into rows of ceil(W / 64) words, bit k of word w = byte 64 w + k.
// AVX2: 32 bytes compared with zero and their sign bits gathered by one movemask.
void pack_rows(const uint8_t* __restrict__ m, int64_t rows, int64_t W, uint64_t* __restrict__ out) {
  const int64_t wpr = (W + 63) / 64;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = m + r * W;
    int64_t w = 0;
#if defined(__AVX2__)
    const __m256i zero = _mm256_setzero_si256();
    for (; (w + 1) * 64 <= W; ++w) {
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + w * 64));
      const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + w * 64 + 32));
      const uint32_t zl = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, zero)));
      const uint32_t zh = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, zero)));
      out[r * wpr + w] = ~(static_cast<uint64_t>(zl) | (static_cast<uint64_t>(zh) << 32));
    }
#endif
    for (; w < wpr; ++w) {
      const int64_t b0 = w * 64, b1 = b0 + 64 < W ? b0 + 64 : W;
      uint64_t bits = 0;
      for (int64_t b = b0; b < b1; ++b) bits |= static_cast<uint64_t>(row[b] != 0) << (b - b0);
      out[r * wpr + w] = bits;
    }
  }
}

// popcount(a & b) over a rectangle of `rows` x `n` words with row stride `stride`.
int64_t and_popcount_rect(const uint64_t* __restrict__ a, const uint64_t* __restrict__ b,
                          int64_t rows, int64_t n, int64_t stride) {
  int64_t c = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < n; ++k) c += __builtin_popcountll(a[r * stride + k] & b[r * stride + k]);
  return c;
}

// Softmax / sigmoid probabilities of a block of `len` pixels: x rows c at x + c * stride,
// p rows c at p + c * len.
template <class T>
void probs_block(const T* x, int64_t stride, int64_t C, int64_t len, int activation, T* p);

template <>
void probs_block<float>(const float* x, int64_t stride, int64_t C, int64_t len, int activation,
                        float* p) {
  if (activation == kActNone) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) p[c * len + i] = x[c * stride + i];
  } else if (activation == kActSigmoid) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) p[c * len + i] = 1.0f / (1.0f + fast_expf(-x[c * stride + i]));
  } else {
    float mx[256], sum[256];
    for (int64_t i = 0; i < len; ++i) mx[i] = x[i];
    for (int64_t c = 1; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) mx[i] = x[c * stride + i] > mx[i] ? x[c * stride + i] : mx[i];
    for (int64_t i = 0; i < len; ++i) sum[i] = 0;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) {
        const float e = fast_expf(x[c * stride + i] - mx[i]);
        p[c * len + i] = e;
        sum[i] += e;
      }
    for (int64_t i = 0; i < len; ++i) sum[i] = 1.0f / sum[i];
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) p[c * len + i] *= sum[i];
  }
}

template <>
void probs_block<double>(const double* x, int64_t stride, int64_t C, int64_t len, int activation,
                         double* p) {
  for (int64_t i = 0; i < len; ++i) {
    if (activation == kActSoftmax) {
      double mx = x[i];
      for (int64_t c = 1; c < C; ++c) mx = x[c * stride + i] > mx ? x[c * stride + i] : mx;
      double sum = 0;
      for (int64_t c = 0; c < C; ++c) sum += (p[c * len + i] = std::exp(x[c * stride + i] - mx));
      for (int64_t c = 0; c < C; ++c) p[c * len + i] /= sum;
    } else {
      for (int64_t c = 0; c < C; ++c)
        p[c * len + i] = activation == kActSigmoid ? 1.0 / (1.0 + std::exp(-x[c * stride + i])) : x[c * stride + i];
    }
  }
}

// Statistics of a block: acc (C, 3) += (sum p t, sum p, sum t). target: labels (len) or dense
// rows at dense + c * stride; a label equal to ignore_index drops its pixel (weights 0).
template <class T>
void stats_block(const T* x, const int64_t* labels, const T* dense, int64_t stride, int64_t C,
                 int64_t len, int activation, int64_t ignore_index, double* acc) {
  thread_local std::vector<T> scratch;  // p (C x len), keep (len)
  scratch.resize(static_cast<size_t>((C + 1) * len));
  T* p = scratch.data();
  T* keep = p + C * len;
  probs_block<T>(x, stride, C, len, activation, p);
  for (int64_t i = 0; i < len; ++i) keep[i] = (labels && labels[i] == ignore_index) ? T(0) : T(1);
  for (int64_t c = 0; c < C; ++c) {
    T spt = 0, sp = 0, st = 0;
    const T* pc = p + c * len;
    if (labels) {
      for (int64_t i = 0; i < len; ++i) {
        const T tc = labels[i] == c ? keep[i] : T(0);  // an ignored pixel is no target either
        spt += pc[i] * tc;
        sp += pc[i] * keep[i];
        st += tc;
      }
    } else {
      const T* tc = dense + c * stride;
      for (int64_t i = 0; i < len; ++i) {
        spt += pc[i] * tc[i];
        sp += pc[i];
        st += tc[i];
      }
    }
    acc[3 * c] += spt;
    acc[3 * c + 1] += sp;
    acc[3 * c + 2] += st;
  }
}

template <class T>
void stats_backward_block(const T* x, const int64_t* labels, const T* dense, int64_t stride,
                          int64_t C, int64_t len, int activation, int64_t ignore_index,
                          const double* g, T* gx) {
  thread_local std::vector<T> scratch;  // p, gp (C x len), dot (len)
  scratch.resize(static_cast<size_t>((2 * C + 1) * len));
  T* p = scratch.data();
  T* gp = p + C * len;
  probs_block<T>(x, stride, C, len, activation, p);
  for (int64_t c = 0; c < C; ++c) {
    const T gi = static_cast<T>(g[3 * c]), gs = static_cast<T>(g[3 * c + 1]);
    for (int64_t i = 0; i < len; ++i) {
      T tc, keep = T(1);
      if (labels) {
        keep = labels[i] == ignore_index ? T(0) : T(1);
        tc = labels[i] == c ? keep : T(0);
      } else {
        tc = dense[c * stride + i];
      }
      gp[c * len + i] = gi * tc + gs * keep;
    }
  }
  if (activation == kActSoftmax) {  // softmax: dx_c = p_c (g_c - sum_k p_k g_k)
    T* dot = gp + C * len;
    for (int64_t i = 0; i < len; ++i) dot[i] = 0;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) dot[i] += p[c * len + i] * gp[c * len + i];
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i)
        gx[c * stride + i] = p[c * len + i] * (gp[c * len + i] - dot[i]);
  } else if (activation == kActSigmoid) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i)
        gx[c * stride + i] = gp[c * len + i] * p[c * len + i] * (T(1) - p[c * len + i]);
  } else {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < len; ++i) gx[c * stride + i] = gp[c * len + i];
  }
}

#define CVK_MASK_STATS(T)                                                                         \
  void dice_stats_block(const T* x, const int64_t* labels, const T* dense, int64_t stride,       \
                        int64_t C, int64_t len, int activation, int64_t ignore_index,            \
                        double* acc) {                                                           \
    stats_block<T>(x, labels, dense, stride, C, len, activation, ignore_index, acc);             \
  }                                                                                              \
  void dice_stats_backward_block(const T* x, const int64_t* labels, const T* dense,              \
                                 int64_t stride, int64_t C, int64_t len, int activation,         \
                                 int64_t ignore_index, const double* g, T* gx) {                 \
    stats_backward_block<T>(x, labels, dense, stride, C, len, activation, ignore_index, g, gx);  \
  }
CVK_MASK_STATS(float)
CVK_MASK_STATS(double)
#undef CVK_MASK_STATS

}  // namespace CVK_SIMD_NS
}  // namespace masks
}  // namespace cvk
