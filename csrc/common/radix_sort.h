// Ascending LSD radix sort of unsigned integer keys (the ranking metrics' score columns, the
// candidates of the dense decoders) (uint32_t or uint64_t), optionally
// carrying a double payload (a sample weight) along. 11-bit digits: three passes for 32-bit
// keys, six for 64-bit ones; one pass over the keys first counts every digit's histogram, and
// a pass whose digit is the same for all keys (the high bits of probabilities, say) is
// skipped. Cost: O(passes * n) reads and scattered writes, against O(n log n) comparisons
// for a comparison sort; below 64 keys insertion sort is used instead.
//
// Floating-point scores become keys through float_key(): the IEEE bits with the sign bit
// flipped for non-negative values and all bits flipped for negative ones, so that unsigned
// order equals numeric order; -0.0 is mapped to +0.0's key first (they are one threshold, as
// numpy's diff says).
#pragma once

#include <string.h>  // ::memcpy, which CUDA device code also has

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/cvk.h"

namespace cvk {

template <class F> struct KeyOf;
template <> struct KeyOf<float> { using type = uint32_t; };
template <> struct KeyOf<double> { using type = uint64_t; };

template <class F>
CVK_HD inline typename KeyOf<F>::type float_key(F x) {  // (also the GPU's sort keys)
  using K = typename KeyOf<F>::type;
  constexpr K sign = K(1) << (sizeof(K) * 8 - 1);
  if (x == F(0)) x = F(0);  // -0.0 -> +0.0
  K u;
  ::memcpy(&u, &x, sizeof(K));
  return (u & sign) ? ~u : (u | sign);
}

template <class F>
inline F key_float(typename KeyOf<F>::type k) {
  using K = typename KeyOf<F>::type;
  constexpr K sign = K(1) << (sizeof(K) * 8 - 1);
  K u = (k & sign) ? (k & ~sign) : ~k;
  F x;
  std::memcpy(&x, &u, sizeof(K));
  return x;
}

// Sorts keys[0, n) (and w[0, n) with them when w is not null). ktmp and wtmp are scratch of
// n entries each (wtmp only with w). The result is in keys / w.
template <class K>
void radix_sort(K* keys, K* ktmp, double* w, double* wtmp, size_t n) {
  static_assert(std::is_unsigned<K>::value, "radix_sort sorts unsigned keys");
  if (n < 64) {  // insertion sort
    for (size_t i = 1; i < n; ++i) {
      K k = keys[i];
      double wk = w ? w[i] : 0.0;
      size_t j = i;
      for (; j > 0 && keys[j - 1] > k; --j) {
        keys[j] = keys[j - 1];
        if (w) w[j] = w[j - 1];
      }
      keys[j] = k;
      if (w) w[j] = wk;
    }
    return;
  }
  constexpr int kBits = 11, kBins = 1 << kBits;
  constexpr int kPasses = (sizeof(K) * 8 + kBits - 1) / kBits;
  std::vector<size_t> hist(static_cast<size_t>(kPasses) * kBins, 0);
  for (size_t i = 0; i < n; ++i) {
    const K k = keys[i];
    for (int p = 0; p < kPasses; ++p) ++hist[p * kBins + ((k >> (p * kBits)) & (kBins - 1))];
  }
  K* src = keys;
  K* dst = ktmp;
  double* wsrc = w;
  double* wdst = wtmp;
  for (int p = 0; p < kPasses; ++p) {
    size_t* h = hist.data() + static_cast<size_t>(p) * kBins;
    const K first_digit = (src[0] >> (p * kBits)) & (kBins - 1);
    if (h[first_digit] == n) continue;  // every key has this digit: nothing moves
    size_t sum = 0;
    for (int b = 0; b < kBins; ++b) {
      const size_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; ++i) {
      const size_t at = h[(src[i] >> (p * kBits)) & (kBins - 1)]++;
      dst[at] = src[i];
      if (w) wdst[at] = wsrc[i];
    }
    std::swap(src, dst);
    std::swap(wsrc, wdst);
  }
  if (src != keys) {
    std::memcpy(keys, src, n * sizeof(K));
    if (w) std::memcpy(w, wsrc, n * sizeof(double));
  }
}

// The same result as radix_sort (ascending, stable, w carried along), for keys that spread
// over their range (scores): one counting pass puts the keys into about 2n buckets by their
// top bits (relative to the smallest key), then an insertion sort orders each bucket, whose
// keys are usually one or two; a bucket of more than 32 keys (a cluster of close keys) is
// radix-sorted instead. Two passes over the keys where radix_sort makes up to six for
// 64-bit ones.
template <class K>
void bucket_sort(K* keys, K* ktmp, double* w, double* wtmp, size_t n) {
  static_assert(std::is_unsigned<K>::value, "bucket_sort sorts unsigned keys");
  if (n < 64) return radix_sort(keys, ktmp, w, wtmp, n);  // (its insertion sort)
  K lo = keys[0], hi = keys[0];
  for (size_t i = 1; i < n; ++i) {
    lo = keys[i] < lo ? keys[i] : lo;
    hi = keys[i] > hi ? keys[i] : hi;
  }
  int bits = 0;  // buckets: 2^bits >= 2n
  while ((size_t(1) << bits) < 2 * n) ++bits;
  int shift = 0;  // (hi - lo) >> shift < 2^bits
  while (shift < static_cast<int>(sizeof(K) * 8) && (static_cast<uint64_t>(hi - lo) >> shift) >= (uint64_t(1) << bits)) ++shift;
  const size_t nb = static_cast<size_t>((hi - lo) >> shift) + 1;
  std::vector<size_t> start(nb + 1, 0);
  for (size_t i = 0; i < n; ++i) ++start[static_cast<size_t>((keys[i] - lo) >> shift) + 1];
  for (size_t b = 0; b < nb; ++b) start[b + 1] += start[b];
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i) {
      const size_t at = fill[static_cast<size_t>((keys[i] - lo) >> shift)]++;
      ktmp[at] = keys[i];
      if (w) wtmp[at] = w[i];
    }
  }
  std::memcpy(keys, ktmp, n * sizeof(K));
  if (w) std::memcpy(w, wtmp, n * sizeof(double));
  for (size_t b = 0; b < nb; ++b) {
    const size_t b0 = start[b], m = start[b + 1] - b0;
    if (m > 32) {
      radix_sort(keys + b0, ktmp, w ? w + b0 : nullptr, wtmp, m);
      continue;
    }
    for (size_t i = b0 + 1; i < b0 + m; ++i) {  // insertion sort, stable
      const K k = keys[i];
      const double wk = w ? w[i] : 0.0;
      size_t j = i;
      for (; j > b0 && keys[j - 1] > k; --j) {
        keys[j] = keys[j - 1];
        if (w) w[j] = w[j - 1];
      }
      keys[j] = k;
      if (w) w[j] = wk;
    }
  }
}

}  // namespace cvk
