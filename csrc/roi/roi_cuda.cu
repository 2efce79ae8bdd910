// CUDA RoIAlign and RoIPool. The geometry (bins, bilinear taps, pool windows) is roi_math.h's,
// shared with the CPU kernels.
//
// Forward: one thread per output element (k, c, ph, pw), reading NCHW or NHWC input.
// Backward, default: one thread per output element scattering with atomicAdd (fast; the order
// of the additions, hence the last bits, varies from run to run).
// Backward, deterministic (torch.are_deterministic_algorithms_enabled()): every grad_input
// element is summed by one thread in a fixed order. RoIAlign: one thread per (image, channel,
// row y) walks the RoIs of its image in order and adds, for each bin and sample whose taps
// touch row y, into its own row; the order per element is (RoI, bin, sample, tap), the CPU's
// and torchvision's. RoIPool: one thread per (image, channel) plane walks the RoIs in order.
#include <cuda_runtime.h>
#include <float.h>

#include <stdexcept>
#include <string>

#include "common/cuda_launch.cuh"
#include "roi/roi_cuda.h"
#include "roi/roi_math.h"

namespace cvk {
namespace roi {
namespace {

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// Element (b, c, y, x) of an NCHW or NHWC map.
CVK_HD inline int64_t at(const Shape& s, bool nhwc, int64_t b, int64_t c, int64_t y, int64_t x) {
  return nhwc ? ((b * s.H + y) * s.W + x) * s.C + c : ((b * s.C + c) * s.H + y) * s.W + x;
}

template <class T>
__global__ void align_forward_kernel(const T* __restrict__ in, bool nhwc, const T* __restrict__ rois,
                                     Shape s, T scale, int64_t sr, bool aligned,
                                     const int64_t* __restrict__ out_rows, T* __restrict__ out) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= s.K * s.C * s.PH * s.PW) return;
  const int64_t pw = i % s.PW, ph = (i / s.PW) % s.PH, c = (i / (s.PW * s.PH)) % s.C;
  const int64_t k = i / (s.PW * s.PH * s.C);
  const T* roi = rois + 5 * k;
  const AlignRoi<T> g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
  const int64_t b = static_cast<int64_t>(roi[0]);
  T acc = 0;
  for (int64_t iy = 0; iy < g.grid_h; ++iy) {
    const Tap<T> ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), s.H);
    if (!ty.valid) continue;
    for (int64_t ix = 0; ix < g.grid_w; ++ix) {
      const Tap<T> tx = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), s.W);
      if (!tx.valid) continue;
      acc += ty.h * tx.h * in[at(s, nhwc, b, c, ty.lo, tx.lo)] +
             ty.h * tx.l * in[at(s, nhwc, b, c, ty.lo, tx.hi)] +
             ty.l * tx.h * in[at(s, nhwc, b, c, ty.hi, tx.lo)] +
             ty.l * tx.l * in[at(s, nhwc, b, c, ty.hi, tx.hi)];
    }
  }
  const int64_t o = out_rows != nullptr ? (out_rows[k] * s.C + c) * s.PH * s.PW + ph * s.PW + pw : i;
  out[o] = acc / g.count;
}

template <class T>
__global__ void align_backward_atomic_kernel(const T* __restrict__ grad, const T* __restrict__ rois,
                                             Shape s, T scale, int64_t sr, bool aligned, bool nhwc,
                                             T* __restrict__ gi) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= s.K * s.C * s.PH * s.PW) return;
  const int64_t pw = i % s.PW, ph = (i / s.PW) % s.PH, c = (i / (s.PW * s.PH)) % s.C;
  const int64_t k = i / (s.PW * s.PH * s.C);
  const T* roi = rois + 5 * k;
  const AlignRoi<T> g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
  const T count = static_cast<T>(g.grid_h * g.grid_w);
  const int64_t b = static_cast<int64_t>(roi[0]);
  const T gv = grad[i];
  for (int64_t iy = 0; iy < g.grid_h; ++iy) {
    const Tap<T> ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), s.H);
    if (!ty.valid) continue;
    for (int64_t ix = 0; ix < g.grid_w; ++ix) {
      const Tap<T> tx = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), s.W);
      if (!tx.valid) continue;
      atomicAdd(gi + at(s, nhwc, b, c, ty.lo, tx.lo), gv * (ty.h * tx.h) / count);
      atomicAdd(gi + at(s, nhwc, b, c, ty.lo, tx.hi), gv * (ty.h * tx.l) / count);
      atomicAdd(gi + at(s, nhwc, b, c, ty.hi, tx.lo), gv * (ty.l * tx.h) / count);
      atomicAdd(gi + at(s, nhwc, b, c, ty.hi, tx.hi), gv * (ty.l * tx.l) / count);
    }
  }
}

// One thread per (b, c, y): owns row y of plane (b, c) of grad_input.
template <class T>
__global__ void align_backward_rows_kernel(const T* __restrict__ grad, const T* __restrict__ rois,
                                           Shape s, T scale, int64_t sr, bool aligned, bool nhwc,
                                           T* __restrict__ gi) {
  const int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (t >= s.N * s.C * s.H) return;
  const int64_t y = t % s.H, c = (t / s.H) % s.C, b = t / (s.H * s.C);
  for (int64_t k = 0; k < s.K; ++k) {
    const T* roi = rois + 5 * k;
    if (static_cast<int64_t>(roi[0]) != b) continue;
    const AlignRoi<T> g = align_roi(roi, scale, s.PH, s.PW, sr, aligned);
    const T count = static_cast<T>(g.grid_h * g.grid_w);
    for (int64_t ph = 0; ph < s.PH; ++ph)
      for (int64_t pw = 0; pw < s.PW; ++pw) {
        const T gv = grad[((k * s.C + c) * s.PH + ph) * s.PW + pw];
        for (int64_t iy = 0; iy < g.grid_h; ++iy) {
          const Tap<T> ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), s.H);
          if (!ty.valid || (ty.lo != y && ty.hi != y)) continue;
          for (int64_t ix = 0; ix < g.grid_w; ++ix) {
            const Tap<T> tx = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), s.W);
            if (!tx.valid) continue;
            if (ty.lo == y) {
              gi[at(s, nhwc, b, c, y, tx.lo)] += gv * (ty.h * tx.h) / count;
              gi[at(s, nhwc, b, c, y, tx.hi)] += gv * (ty.h * tx.l) / count;
            }
            if (ty.hi == y) {
              gi[at(s, nhwc, b, c, y, tx.lo)] += gv * (ty.l * tx.h) / count;
              gi[at(s, nhwc, b, c, y, tx.hi)] += gv * (ty.l * tx.l) / count;
            }
          }
        }
      }
  }
}

template <class T>
__global__ void pool_forward_kernel(const T* __restrict__ in, bool nhwc, const T* __restrict__ rois,
                                    Shape s, T scale, T* __restrict__ out, int32_t* __restrict__ argmax) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= s.K * s.C * s.PH * s.PW) return;
  const int64_t pw = i % s.PW, ph = (i / s.PW) % s.PH, c = (i / (s.PW * s.PH)) % s.C;
  const int64_t k = i / (s.PW * s.PH * s.C);
  const T* roi = rois + 5 * k;
  const PoolBin bin = pool_bin(roi, scale, s.H, s.W, s.PH, s.PW, ph, pw);
  const int64_t b = static_cast<int64_t>(roi[0]);
  T mx = bin.empty ? T(0) : T(-FLT_MAX);
  int32_t arg = -1;
  for (int64_t h = bin.hs; h < bin.he; ++h)
    for (int64_t w = bin.ws; w < bin.we; ++w) {
      const T v = in[at(s, nhwc, b, c, h, w)];
      if (v > mx) {
        mx = v;
        arg = static_cast<int32_t>(h * s.W + w);
      }
    }
  out[i] = mx;
  argmax[i] = arg;
}

template <class T>
__global__ void pool_backward_atomic_kernel(const T* __restrict__ grad, const int32_t* __restrict__ argmax,
                                            const T* __restrict__ rois, Shape s, bool nhwc, T* __restrict__ gi) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= s.K * s.C * s.PH * s.PW) return;
  const int32_t a = argmax[i];
  if (a < 0) return;
  const int64_t c = (i / (s.PW * s.PH)) % s.C, k = i / (s.PW * s.PH * s.C);
  const int64_t b = static_cast<int64_t>(rois[5 * k]);
  atomicAdd(gi + at(s, nhwc, b, c, a / s.W, a % s.W), grad[i]);
}

template <class T>
__global__ void pool_backward_planes_kernel(const T* __restrict__ grad, const int32_t* __restrict__ argmax,
                                            const T* __restrict__ rois, Shape s, bool nhwc, T* __restrict__ gi) {
  const int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (t >= s.N * s.C) return;
  const int64_t c = t % s.C, b = t / s.C;
  const int64_t PP = s.PH * s.PW;
  for (int64_t k = 0; k < s.K; ++k) {
    if (static_cast<int64_t>(rois[5 * k]) != b) continue;
    for (int64_t p = 0; p < PP; ++p) {
      const int64_t i = (k * s.C + c) * PP + p;
      const int32_t a = argmax[i];
      if (a >= 0) gi[at(s, nhwc, b, c, a / s.W, a % s.W)] += grad[i];
    }
  }
}

}  // namespace

void roi_align_forward_cuda(int dtype, const void* input, bool channels_last, const void* rois,
                            Shape s, double scale, int64_t sr, bool aligned,
                            const int64_t* out_rows, void* output, void* stream) {
  const int64_t n = s.K * s.C * s.PH * s.PW;
  if (n == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    align_forward_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(input), channels_last, static_cast<const T*>(rois), s,
        static_cast<T>(scale), sr, aligned, out_rows, static_cast<T*>(output));
  });
  check_launch("roi_align");
}

void roi_align_backward_cuda(int dtype, const void* grad, const void* rois, Shape s, double scale,
                             int64_t sr, bool aligned, bool channels_last, bool deterministic,
                             void* grad_input, void* stream) {
  const int64_t total = s.N * s.C * s.H * s.W;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    cudaMemsetAsync(grad_input, 0, static_cast<size_t>(total) * sizeof(T), as_stream(stream));
    const int64_t n = s.K * s.C * s.PH * s.PW;
    if (n == 0 || total == 0) return;
    if (deterministic) {
      align_backward_rows_kernel<T><<<blocks_for(s.N * s.C * s.H), kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(grad), static_cast<const T*>(rois), s, static_cast<T>(scale), sr,
          aligned, channels_last, static_cast<T*>(grad_input));
    } else {
      align_backward_atomic_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(grad), static_cast<const T*>(rois), s, static_cast<T>(scale), sr,
          aligned, channels_last, static_cast<T*>(grad_input));
    }
  });
  check_launch("roi_align backward");
}

void roi_pool_forward_cuda(int dtype, const void* input, bool channels_last, const void* rois,
                           Shape s, double scale, void* output, int32_t* argmax, void* stream) {
  const int64_t n = s.K * s.C * s.PH * s.PW;
  if (n == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    pool_forward_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(input), channels_last, static_cast<const T*>(rois), s,
        static_cast<T>(scale), static_cast<T*>(output), argmax);
  });
  check_launch("roi_pool");
}

void roi_pool_backward_cuda(int dtype, const void* grad, const int32_t* argmax, const void* rois,
                            Shape s, bool channels_last, bool deterministic, void* grad_input,
                            void* stream) {
  const int64_t total = s.N * s.C * s.H * s.W;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    cudaMemsetAsync(grad_input, 0, static_cast<size_t>(total) * sizeof(T), as_stream(stream));
    const int64_t n = s.K * s.C * s.PH * s.PW;
    if (n == 0 || total == 0) return;
    if (deterministic) {
      pool_backward_planes_kernel<T><<<blocks_for(s.N * s.C), kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(grad), argmax, static_cast<const T*>(rois), s, channels_last,
          static_cast<T*>(grad_input));
    } else {
      pool_backward_atomic_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(grad), argmax, static_cast<const T*>(rois), s, channels_last,
          static_cast<T*>(grad_input));
    }
  });
  check_launch("roi_pool backward");
}

}  // namespace roi
}  // namespace cvk
