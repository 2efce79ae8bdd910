// Dilated convolution as GEMM (gemm.h) with implicit im2col: for each image and group, the
// output (Cout/G x Ho*Wo) = weights (Cout/G x K) * columns (K x Ho*Wo), K = Cin/G*KH*KW, where
// column (ci, kh, kw) of output pixel (oh, ow) is the input pixel it multiplies (0 outside).
// The forward packs those columns straight from the image into the GEMM's panels, so no
// K x Ho*Wo buffer is built and no zero-inflated (dilated) kernel is ever formed.
// Backward: weight gradient = grad_out * columns^T (the columns again packed straight from
// the image, transposed),
// input gradient, stride 1: the forward kernel on grad_out with the kernel flipped (a
// transposed convolution is a convolution); other strides: weights^T * grad_out into a
// column buffer, then scattered back (col2im) with threads over input channels. Every sum
// runs in a fixed order (deterministic).
// Cost: 2 * N * Cout * Ho*Wo * K flops forward, twice that backward.
#include "conv/conv_cpu.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/cvk.h"
#include "common/thread_pool.h"
#include "common/workspace.h"
#include "conv/gemm.h"
#include "conv/winograd.h"

namespace cvk {
namespace conv {
namespace {

// The j in [0, len) whose input column iw0 + j * sw lies inside [0, W), as [lo, hi) (lo may
// exceed hi when none does). No division at stride 1.
struct InImage {
  int64_t lo, hi;
  InImage(int64_t iw0, int64_t len, int64_t sw, int64_t W)
      : lo(iw0 >= 0 ? 0 : std::min(len, sw == 1 ? -iw0 : (-iw0 + sw - 1) / sw)),
        hi(iw0 >= W ? 0 : std::min(len, sw == 1 ? W - iw0 : (W - 1 - iw0) / sw + 1)) {}
};

// dst[0, len) = the input row src read at stride sw where `in` says it lies in the image, 0
// elsewhere.
template <class T>
void copy_in_image(const T* src, int64_t sw, const InImage& in, T* dst, int64_t len) {
  const int64_t lo = in.lo, hi = std::max(in.lo, in.hi);
  int64_t j = 0;
  for (; j < lo; ++j) dst[j] = T(0);  // short runs: plain loops, not memset calls
  if (sw == 1)
    for (; j < hi; ++j) dst[j] = src[j];
  else
    for (; j < hi; ++j) dst[j] = src[j * sw];
  for (; j < len; ++j) dst[j] = T(0);
}

// The same, writing dst[j * ds] (a column of a packed panel).
template <class T>
void copy_in_image_strided(const T* src, int64_t sw, const InImage& in, T* dst, int64_t ds,
                           int64_t len) {
  const int64_t lo = in.lo, hi = std::max(in.lo, in.hi);
  int64_t j = 0;
  for (; j < lo; ++j) dst[j * ds] = T(0);
  for (; j < hi; ++j) dst[j * ds] = src[j * sw];
  for (; j < len; ++j) dst[j * ds] = T(0);
}

// Output pixels p0 .. p0 + n - 1 cut where output rows end: each run starts at offset j, is len
// pixels long, and its first pixel's tap (0, 0) reads input row h0, column w0. Writes at most n
// runs into `runs`, returns how many.
struct Run {
  int64_t j, len, h0, w0;
};
inline int64_t pixel_runs(const ConvShape& s, int64_t p0, int64_t n, Run* runs) {
  int64_t count = 0;
  for (int64_t j = 0; j < n;) {
    const int64_t p = p0 + j, oh = p / s.Wo, ow = p % s.Wo;
    const int64_t len = std::min(n - j, s.Wo - ow);
    runs[count++] = {j, len, oh * s.sh - s.pt, ow * s.sw - s.pl};
    j += len;
  }
  return count;
}

// The columns (K x P) of image x (one group's Cin/G channels): column (k, p) is the input
// pixel that tap k = (ci, kh, kw) of output pixel p reads, 0 outside the image.
template <class T>
struct Columns {
  const T* x;
  ConvShape s;
  int64_t cin;  // channels of the group
  // B = columns (K x P): panels of NR output pixels. A panel's pixels fall into runs along
  // output rows; for each k, a run reads one input row at stride sw, of which the in-image
  // part [jlo, jhi) is found once (no per-pixel bounds test) and the rest is zero.
  PackB<T> as_b() const {
    const Columns c = *this;
    return [c](int64_t k0, int64_t kc, int64_t n0, int64_t nc, T* panel) {
      constexpr int64_t NR = Tiles<T>::NR;
      const ConvShape& s = c.s;
      for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        T* out = panel + (j0 / NR) * NR * kc;
        const int64_t live = std::min(NR, nc - j0);
        Run runs[NR];
        const int64_t nruns = pixel_runs(s, n0 + j0, live, runs);
        // k = (ci, kh, kw) stepped as counters (no divisions in the loop)
        int64_t ci = k0 / (s.KH * s.KW), kh = (k0 / s.KW) % s.KH, kw = k0 % s.KW;
        for (int64_t k = 0; k < kc; ++k) {
          const int64_t oh_off = kh * s.dh, ow_off = kw * s.dw;
          const T* plane = c.x + ci * s.H * s.W;
          T* o = out + NR * k;
          std::fill(o + live, o + NR, T(0));
          for (int64_t q = 0; q < nruns; ++q) {
            const Run& run = runs[q];
            T* dst = o + run.j;
            const int64_t ih = run.h0 + oh_off, iw0 = run.w0 + ow_off;
            if (ih < 0 || ih >= s.H) {
              std::fill(dst, dst + run.len, T(0));
              continue;
            }
            copy_in_image(plane + ih * s.W + iw0, s.sw, InImage(iw0, run.len, s.sw, s.W), dst, run.len);
          }
          if (++kw == s.KW) {
            kw = 0;
            if (++kh == s.KH) {
              kh = 0;
              ++ci;
            }
          }
        }
      }
    };
  }
};

// The columns transposed (P x K), as the B operand of the weight gradient
// grad_w (Cout/G x K) = grad_out (Cout/G x P) * columns^T: a panel's kc rows are output
// pixels, its NR columns taps k = (ci, kh, kw). Per tap, each run of pixels along an output
// row reads one input row (as in as_b) and writes it down the panel's column.
template <class T>
PackB<T> columns_transposed(const Columns<T>& c) {
  return [c](int64_t k0, int64_t kc, int64_t n0, int64_t nc, T* panel) {
    constexpr int64_t NR = Tiles<T>::NR;
    const ConvShape& s = c.s;
    static thread_local std::vector<Run> run_store;
    run_store.resize(static_cast<size_t>(kc));
    Run* const runs = run_store.data();
    const int64_t nruns = pixel_runs(s, k0, kc, runs);
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
      T* out = panel + (j0 / NR) * NR * kc;
      const int64_t live = std::min(NR, nc - j0);
      for (int64_t q = live; q < NR; ++q)
        for (int64_t r = 0; r < kc; ++r) out[r * NR + q] = T(0);
      for (int64_t q = 0; q < live; ++q) {
        const int64_t k = n0 + j0 + q;
        const int64_t ci = k / (s.KH * s.KW), kh = (k / s.KW) % s.KH, kw = k % s.KW;
        const T* plane = c.x + ci * s.H * s.W;
        for (int64_t r = 0; r < nruns; ++r) {
          const Run& run = runs[r];
          T* dst = out + run.j * NR + q;
          const int64_t ih = run.h0 + kh * s.dh, iw0 = run.w0 + kw * s.dw;
          if (ih < 0 || ih >= s.H) {
            for (int64_t i = 0; i < run.len; ++i) dst[i * NR] = T(0);
            continue;
          }
          copy_in_image_strided(plane + ih * s.W + iw0, s.sw, InImage(iw0, run.len, s.sw, s.W), dst, NR,
                                run.len);
        }
      }
    }
  };
}

// Whether every value is finite: the Winograd transforms add and subtract inputs, so one
// inf becomes NaN (inf - inf) where the direct sum gives inf; such inputs take the GEMM path.
// A value is inf or NaN when its exponent bits are all ones: 4 values per SSE2 step (baseline
// x86-64), one branch per 64 values.
inline bool all_finite(const float* v, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i exp = _mm_set1_epi32(0x7f800000);
  for (; i + 64 <= n; i += 64) {
    __m128i hit = _mm_setzero_si128();
    for (int64_t j = 0; j < 64; j += 4) {
      const __m128i b = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i + j)), exp);
      hit = _mm_or_si128(hit, _mm_cmpeq_epi32(b, exp));
    }
    if (_mm_movemask_epi8(hit) != 0) return false;
  }
#endif
  for (; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, v + i, 4);
    if ((b & 0x7f800000u) == 0x7f800000u) return false;
  }
  return true;
}

template <class T>
void forward(const T* x, const T* w, const T* bias, T* out, const ConvShape& s) {
  if constexpr (std::is_same<T, float>::value) {
    if (winograd_suits(s) && all_finite(x, s.N * s.Cin * s.H * s.W) && all_finite(w, s.Cout * s.Cin * 9))
      return winograd_forward(x, w, bias, out, s);
  }
  const int64_t G = s.groups, cin = s.Cin / G, cout = s.Cout / G;
  const int64_t K = cin * s.KH * s.KW, P = s.Ho * s.Wo;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      Columns<T> col{x + (n * s.Cin + g * cin) * s.H * s.W, s, cin};
      T* o = out + (n * s.Cout + g * cout) * P;
      gemm<T>(cout, P, K, pack_matrix_a<T>(w + g * cout * K, K, false), col.as_b(), o, P, false);
      if (bias) {
        parallel_for(0, cout, 8, [&](int64_t c0, int64_t c1) {
          for (int64_t c = c0; c < c1; ++c) {
            const T b = bias[g * cout + c];
            for (int64_t p = 0; p < P; ++p) o[c * P + p] += b;
          }
        });
      }
    }
}

template <class T>
void backward(const T* gout, const T* x, const T* w, T* gx, T* gw, T* gb, const ConvShape& s) {
  const int64_t G = s.groups, cin = s.Cin / G, cout = s.Cout / G;
  const int64_t K = cin * s.KH * s.KW, P = s.Ho * s.Wo;
  if (gb) {
    parallel_for(0, s.Cout, 4, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        T acc = 0;
        for (int64_t n = 0; n < s.N; ++n)
          for (int64_t p = 0; p < P; ++p) acc += gout[(n * s.Cout + c) * P + p];
        gb[c] = acc;
      }
    });
  }
  if (gx && s.sh == 1 && s.sw == 1) {
    // Stride 1: grad_x is itself a dilated convolution of grad_out, with the kernel flipped
    // and its in/out channels swapped, padded by dilation*(k-1) - pad (negative padding just
    // starts inside the image), giving H x W: run the forward kernel, no column buffer.
    static thread_local std::vector<T> wflip_store;  // kept between calls: no page faults
    wflip_store.resize(static_cast<size_t>(s.Cout * K));
    T* const wflip = wflip_store.data();  // (Cin, Cout/G, KH, KW); the workers write through it
    const int64_t taps = s.KH * s.KW;
    parallel_for(0, s.Cin, 8, [&](int64_t c0, int64_t c1) {  // one input channel's rows each
      for (int64_t gc = c0; gc < c1; ++gc) {
        const int64_t g = gc / cin, ci = gc % cin;
        for (int64_t co = 0; co < cout; ++co)
          for (int64_t r = 0; r < taps; ++r)
            wflip[((g * cin + ci) * cout + co) * taps + (taps - 1 - r)] = w[((g * cout + co) * cin + ci) * taps + r];
      }
    });
    const ConvShape t{s.N, s.Cout, s.Ho, s.Wo, s.Cin, s.KH, s.KW, 1, 1, s.dh * (s.KH - 1) - s.pt,
                      s.dw * (s.KW - 1) - s.pl, s.dh, s.dw, G, s.H, s.W};
    forward<T>(gout, wflip, nullptr, gx, t);
    gx = nullptr;  // done
  }
  if constexpr (std::is_same<T, float>::value) {
    if (gw && winograd_suits(s) && all_finite(x, s.N * s.Cin * s.H * s.W) &&
        all_finite(gout, s.N * s.Cout * s.Ho * s.Wo)) {
      winograd_weight_grad(gout, x, gw, s);
      gw = nullptr;  // done
    }
  }
  // Column buffer (K x P) for the gradient of the columns (grad_x at stride > 1).
  Scratch ws((gx ? static_cast<size_t>(K * P) : 0) * sizeof(T));
  T* dcol = ws.as<T>();
  if (gx) std::fill(gx, gx + s.N * s.Cin * s.H * s.W, T(0));
  for (int64_t g = 0; g < G; ++g) {
    const T* wg = w + g * cout * K;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* go = gout + (n * s.Cout + g * cout) * P;
      if (gw) {  // grad_w[g] (cout x K) += grad_out (cout x P) * columns^T (P x K), packed implicitly
        const Columns<T> cols{x + (n * s.Cin + g * cin) * s.H * s.W, s, cin};
        gemm<T>(cout, K, P, pack_matrix_a<T>(go, P, false), columns_transposed(cols), gw + g * cout * K, K,
                n > 0);
      }
      if (gx) {
        // columns' gradient (K x P) = w^T (K x cout) * grad_out (cout x P), then col2im.
        gemm<T>(K, P, cout, pack_matrix_a<T>(wg, K, true), pack_matrix_b<T>(go, P, false), dcol, P, false);
        T* gxi = gx + (n * s.Cin + g * cin) * s.H * s.W;
        parallel_for(0, cin, 1, [&](int64_t c0, int64_t c1) {
          for (int64_t ci = c0; ci < c1; ++ci)
            for (int64_t r = 0; r < s.KH * s.KW; ++r) {
              const int64_t kh = r / s.KW, kw = r % s.KW;
              const T* d = dcol + (ci * s.KH * s.KW + r) * P;
              T* plane = gxi + ci * s.H * s.W;
              for (int64_t oh = 0; oh < s.Ho; ++oh) {
                const int64_t ih = oh * s.sh - s.pt + kh * s.dh;
                if (ih < 0 || ih >= s.H) continue;
                for (int64_t ow = 0; ow < s.Wo; ++ow) {
                  const int64_t iw = ow * s.sw - s.pl + kw * s.dw;
                  if (iw >= 0 && iw < s.W) plane[ih * s.W + iw] += d[oh * s.Wo + ow];
                }
              }
            }
        });
      }
    }
    if (gw && s.N == 0) std::fill(gw + g * cout * K, gw + (g + 1) * cout * K, T(0));
  }
}

}  // namespace

void conv2d_forward(int dtype, const void* x, const void* w, const void* bias, void* out,
                    const ConvShape& s) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    forward<T>(static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(bias),
               static_cast<T*>(out), s);
  });
}

void conv2d_backward(int dtype, const void* grad_out, const void* x, const void* w, void* grad_x,
                     void* grad_w, void* grad_b, const ConvShape& s) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    backward<T>(static_cast<const T*>(grad_out), static_cast<const T*>(x), static_cast<const T*>(w),
                static_cast<T*>(grad_x), static_cast<T*>(grad_w), static_cast<T*>(grad_b), s);
  });
}

}  // namespace conv
}  // namespace cvk
