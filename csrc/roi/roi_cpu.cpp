// CPU RoIAlign and RoIPool, forward and backward.
//
// Two layouts. Channels-last input (N, H, W, C) is used as it is: per RoI, the kernels of
// roi_simd_impl.h vectorize across channels into a (PH*PW, C) tile, transposed into the
// (K, C, PH, PW) output. Channels-first input (N, C, H, W) either goes through the same path
// after one blocked transpose to channels-last (when the RoIs sample many more taps than the
// map has pixels, as in a detector's head), or is processed plane by plane like torchvision.
//
// Threads: forward over RoIs (each writes only its own output), backward over channel ranges
// (each owns its slice of grad_input), so the backward needs no atomics and is deterministic:
// every grad_input element sums its contributions in torchvision's order (RoI, bin, sample,
// tap). Cost: O(K * C * PH * PW * samples * 4) multiply-adds for RoIAlign, plus O(N*C*H*W)
// for a transpose when one is made.
#define CVK_SIMD_NS base
#include "roi/roi_simd_impl.h"
#undef CVK_SIMD_NS

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "common/cpu_features.h"
#include "common/cvk.h"
#include "common/thread_pool.h"
#include "common/transpose.h"
#include "common/workspace.h"

namespace cvk {
namespace roi {
namespace {

#define CVK_SIMD_CALL(fn, ...) (use_avx2() ? avx2::fn(__VA_ARGS__) : base::fn(__VA_ARGS__))

template <class T>
constexpr int dtype_code() {
  return std::is_same<T, float>::value ? 0 : 1;
}

// (N, A, B) -> (N, B, A) (common/transpose.h).
template <class T>
void transpose_batched(const T* in, T* out, int64_t N, int64_t A, int64_t B) {
  cvk::transpose_batched(dtype_code<T>(), in, out, N, A, B);
}

template <class T>
size_t bytes_of(int64_t n) {
  return static_cast<size_t>(n) * sizeof(T);
}

// Does the RoI work dwarf a transpose of the map? (taps per channel vs pixels)
bool worth_transposing(const Shape& s, int64_t sampling_ratio) {
  const int64_t per_bin = sampling_ratio > 0 ? sampling_ratio * sampling_ratio : 4;
  return s.K * s.PH * s.PW * per_bin * 4 >= s.N * s.H * s.W / 2;
}

// (PH*PW, C) tile of RoI k -> output[k] (C, PH, PW).
template <class T>
void untile(const T* tile, int64_t PP, int64_t C, T* out_k) {
  for (int64_t p = 0; p < PP; ++p)
    for (int64_t c = 0; c < C; ++c) out_k[c * PP + p] = tile[p * C + c];
}

template <class T>
void align_forward_typed(const T* input, bool nhwc, const T* rois, Shape s, T scale, int64_t sr,
                         bool aligned, const int64_t* out_rows, T* out) {
  // RoI k writes output row out_rows[k] (k when null): the levels of a multi-scale pooling
  // fill one output in place.
  auto row = [out_rows](int64_t k) { return out_rows != nullptr ? out_rows[k] : k; };
  if (s.K == 0 || s.C == 0 || s.PH == 0 || s.PW == 0) return;
  std::unique_ptr<Scratch> transposed;
  if (!nhwc && worth_transposing(s, sr)) {
    transposed = std::make_unique<Scratch>(bytes_of<T>(s.N * s.C * s.H * s.W));
    transpose_batched(input, transposed->as<T>(), s.N, s.C, s.H * s.W);
    input = transposed->as<T>();
    nhwc = true;
  }
  const int64_t PP = s.PH * s.PW;
  if (nhwc) {
    parallel_for(0, s.K, 1, [&](int64_t k0, int64_t k1) {
      std::vector<T> tile(static_cast<size_t>(PP * s.C));
      for (int64_t k = k0; k < k1; ++k) {
        CVK_SIMD_CALL(align_roi_nhwc, input, rois + 5 * k, s, scale, sr, aligned, tile.data());
        untile(tile.data(), PP, s.C, out + row(k) * s.C * PP);
      }
    });
    return;
  }
  // Plane by plane (channels-first, few RoIs): the taps of a RoI serve all its channels.
  parallel_for(0, s.K * s.C, 16, [&](int64_t i0, int64_t i1) {
    std::vector<Tap<T>> ys, xs;
    int64_t cur = -1;
    AlignRoi<T> g{};
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t k = i / s.C, c = i % s.C;
      const T* roi = rois + 5 * k;
      if (k != cur) {
        cur = k;
        g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
        roi_taps(g, s, ys, xs);
      }
      const T* plane = input + (static_cast<int64_t>(roi[0]) * s.C + c) * s.H * s.W;
      T* o = out + (row(k) * s.C + c) * PP;
      for (int64_t ph = 0; ph < s.PH; ++ph)
        for (int64_t pw = 0; pw < s.PW; ++pw) {
          T acc = 0;
          for (int64_t iy = 0; iy < g.grid_h; ++iy) {
            const Tap<T> ty = ys[ph * g.grid_h + iy];
            if (!ty.valid) continue;
            for (int64_t ix = 0; ix < g.grid_w; ++ix) {
              const Tap<T> tx = xs[pw * g.grid_w + ix];
              if (!tx.valid) continue;
              acc += ty.h * tx.h * plane[ty.lo * s.W + tx.lo] +
                     ty.h * tx.l * plane[ty.lo * s.W + tx.hi] +
                     ty.l * tx.h * plane[ty.hi * s.W + tx.lo] +
                     ty.l * tx.l * plane[ty.hi * s.W + tx.hi];
            }
          }
          o[ph * s.PW + pw] = acc / g.count;
        }
    }
  });
}

// grad_output (K, C, PH, PW) -> per-RoI tiles (K, PH*PW, C) for the channels-last backward.
template <class T>
std::vector<T> grad_tiles(const T* grad, Shape s) {
  std::vector<T> tiles(static_cast<size_t>(s.K * s.C * s.PH * s.PW));
  transpose_batched(grad, tiles.data(), s.K, s.C, s.PH * s.PW);
  return tiles;
}

// Channel ranges for the backward: one per thread, whole vectors where possible.
template <class F>
void over_channels(int64_t C, F&& f) {
  const int64_t parts = std::min<int64_t>(get_num_threads(), std::max<int64_t>(1, C / 8));
  parallel_for_each(parts, [&](int64_t p) { f(C * p / parts, C * (p + 1) / parts); });
}

template <class T>
void align_backward_typed(const T* grad, const T* rois, Shape s, T scale, int64_t sr,
                          bool aligned, bool nhwc, T* grad_input) {
  const int64_t total = s.N * s.C * s.H * s.W;
  const bool empty = s.K == 0 || s.C == 0 || s.PH == 0 || s.PW == 0;
  const bool via_nhwc = !empty && (nhwc || worth_transposing(s, sr));
  advise_huge_pages(grad_input, total * static_cast<int64_t>(sizeof(T)));  // a fresh tensor
  if (!via_nhwc || nhwc) std::fill(grad_input, grad_input + total, T(0));
  if (empty) return;
  if (via_nhwc) {
    std::unique_ptr<Scratch> scratch;
    T* gi = grad_input;
    if (!nhwc) {
      scratch = std::make_unique<Scratch>(bytes_of<T>(total));
      gi = scratch->as<T>();
      std::fill(gi, gi + total, T(0));
    }
    const std::vector<T> tiles = grad_tiles(grad, s);
    over_channels(s.C, [&](int64_t c0, int64_t c1) {
      CVK_SIMD_CALL(align_backward_nhwc, tiles.data(), rois, s, scale, sr, aligned, c0, c1, gi);
    });
    if (!nhwc) transpose_batched(gi, grad_input, s.N, s.H * s.W, s.C);
    return;
  }
  over_channels(s.C, [&](int64_t c0, int64_t c1) {
    std::vector<Tap<T>> ys, xs;
    for (int64_t k = 0; k < s.K; ++k) {
      const T* roi = rois + 5 * k;
      const AlignRoi<T> g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
      if (g.grid_h * g.grid_w == 0) continue;
      const T count = static_cast<T>(g.grid_h * g.grid_w);
      roi_taps(g, s, ys, xs);
      const int64_t b = static_cast<int64_t>(roi[0]);
      for (int64_t c = c0; c < c1; ++c) {
        T* plane = grad_input + (b * s.C + c) * s.H * s.W;
        const T* gk = grad + (k * s.C + c) * s.PH * s.PW;
        for (int64_t ph = 0; ph < s.PH; ++ph)
          for (int64_t pw = 0; pw < s.PW; ++pw) {
            const T gv = gk[ph * s.PW + pw];
            for (int64_t iy = 0; iy < g.grid_h; ++iy) {
              const Tap<T> ty = ys[ph * g.grid_h + iy];
              if (!ty.valid) continue;
              for (int64_t ix = 0; ix < g.grid_w; ++ix) {
                const Tap<T> tx = xs[pw * g.grid_w + ix];
                if (!tx.valid) continue;
                plane[ty.lo * s.W + tx.lo] += gv * (ty.h * tx.h) / count;
                plane[ty.lo * s.W + tx.hi] += gv * (ty.h * tx.l) / count;
                plane[ty.hi * s.W + tx.lo] += gv * (ty.l * tx.h) / count;
                plane[ty.hi * s.W + tx.hi] += gv * (ty.l * tx.l) / count;
              }
            }
          }
      }
    }
  });
}

// RoIPool reads every pixel of every RoI: is that much more than the map itself?
template <class T>
bool pool_worth_transposing(const T* rois, const Shape& s, T scale) {
  double area = 0;
  for (int64_t k = 0; k < s.K; ++k) {
    const T* r = rois + 5 * k;
    const double w = std::min<double>(s.W, std::max<double>(0, (r[3] - r[1]) * scale + 1));
    const double h = std::min<double>(s.H, std::max<double>(0, (r[4] - r[2]) * scale + 1));
    if (w == w && h == h) area += w * h;
  }
  return area >= 0.5 * double(s.N) * double(s.H) * double(s.W);
}

template <class T>
void pool_forward_typed(const T* input, bool nhwc, const T* rois, Shape s, T scale, T* out,
                        int32_t* argmax) {
  if (s.K == 0 || s.C == 0 || s.PH == 0 || s.PW == 0) return;
  const int64_t PP = s.PH * s.PW;
  std::unique_ptr<Scratch> transposed;
  if (!nhwc && pool_worth_transposing(rois, s, scale)) {
    transposed = std::make_unique<Scratch>(bytes_of<T>(s.N * s.C * s.H * s.W));
    transpose_batched(input, transposed->as<T>(), s.N, s.C, s.H * s.W);
    input = transposed->as<T>();
    nhwc = true;
  }
  if (nhwc) {
    parallel_for(0, s.K, 1, [&](int64_t k0, int64_t k1) {
      std::vector<T> tile(static_cast<size_t>(PP * s.C));
      std::vector<int32_t> arg(static_cast<size_t>(PP * s.C));
      for (int64_t k = k0; k < k1; ++k) {
        CVK_SIMD_CALL(pool_roi_nhwc, input, rois + 5 * k, s, scale, tile.data(), arg.data());
        untile(tile.data(), PP, s.C, out + k * s.C * PP);
        untile(arg.data(), PP, s.C, argmax + k * s.C * PP);
      }
    });
    return;
  }
  parallel_for(0, s.K * s.C, 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t k = i / s.C, c = i % s.C;
      const T* roi = rois + 5 * k;
      const T* plane = input + (static_cast<int64_t>(roi[0]) * s.C + c) * s.H * s.W;
      for (int64_t ph = 0; ph < s.PH; ++ph)
        for (int64_t pw = 0; pw < s.PW; ++pw) {
          const PoolBin bin = pool_bin(roi, scale, s.H, s.W, s.PH, s.PW, ph, pw);
          T mx = bin.empty ? T(0) : T(-FLT_MAX);
          int32_t arg = -1;
          for (int64_t h = bin.hs; h < bin.he; ++h)
            for (int64_t w = bin.ws; w < bin.we; ++w)
              if (plane[h * s.W + w] > mx) {
                mx = plane[h * s.W + w];
                arg = static_cast<int32_t>(h * s.W + w);
              }
          out[i * PP + ph * s.PW + pw] = mx;
          argmax[i * PP + ph * s.PW + pw] = arg;
        }
    }
  });
}

template <class T>
void pool_backward_typed(const T* grad, const int32_t* argmax, const T* rois, Shape s, bool nhwc,
                         T* grad_input) {
  const int64_t total = s.N * s.C * s.H * s.W;
  advise_huge_pages(grad_input, total * static_cast<int64_t>(sizeof(T)));  // a fresh tensor
  std::fill(grad_input, grad_input + total, T(0));
  const int64_t PP = s.PH * s.PW;
  over_channels(s.C, [&](int64_t c0, int64_t c1) {
    for (int64_t k = 0; k < s.K; ++k) {
      const int64_t b = static_cast<int64_t>(rois[5 * k]);
      for (int64_t c = c0; c < c1; ++c) {
        const T* gk = grad + (k * s.C + c) * PP;
        const int32_t* ak = argmax + (k * s.C + c) * PP;
        for (int64_t p = 0; p < PP; ++p) {
          if (ak[p] < 0) continue;
          if (nhwc) {
            grad_input[(b * s.H * s.W + ak[p]) * s.C + c] += gk[p];
          } else {
            grad_input[(b * s.C + c) * s.H * s.W + ak[p]] += gk[p];
          }
        }
      }
    }
  });
}

}  // namespace

void roi_align_forward_cpu(int dtype, const void* input, bool channels_last, const void* rois,
                           Shape s, double scale, int64_t sampling_ratio, bool aligned,
                           const int64_t* out_rows, void* output) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    align_forward_typed<T>(static_cast<const T*>(input), channels_last, static_cast<const T*>(rois),
                           s, static_cast<T>(scale), sampling_ratio, aligned, out_rows,
                           static_cast<T*>(output));
  });
}

void roi_align_backward_cpu(int dtype, const void* grad_output, const void* rois, Shape s,
                            double scale, int64_t sampling_ratio, bool aligned,
                            bool channels_last, void* grad_input) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    align_backward_typed<T>(static_cast<const T*>(grad_output), static_cast<const T*>(rois), s,
                            static_cast<T>(scale), sampling_ratio, aligned, channels_last,
                            static_cast<T*>(grad_input));
  });
}

void roi_pool_forward_cpu(int dtype, const void* input, bool channels_last, const void* rois,
                          Shape s, double scale, void* output, int32_t* argmax) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    pool_forward_typed<T>(static_cast<const T*>(input), channels_last, static_cast<const T*>(rois),
                          s, static_cast<T>(scale), static_cast<T*>(output), argmax);
  });
}

void roi_pool_backward_cpu(int dtype, const void* grad_output, const int32_t* argmax,
                           const void* rois, Shape s, bool channels_last, void* grad_input) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    pool_backward_typed<T>(static_cast<const T*>(grad_output), argmax, static_cast<const T*>(rois),
                           s, channels_last, static_cast<T*>(grad_input));
  });
}

}  // namespace roi
}  // namespace cvk
