// CUDA box kernels. The arithmetic is box_math.h's, shared with the CPU path (built with
// --fmad=false so the roundings match).
//
// pairwise: one thread per output element of a (B, N, M) grid, x over j so that a warp's
//   stores are contiguous; boxes2 are read through the cache (each j is reused by N threads).
// pairwise backward: deterministic without atomics: one thread per row of boxes1 sums over
//   j, one thread per row of boxes2 sums over i, always in the same order.
// losses, area, convert: one thread per box pair / box.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/cuda_launch.cuh"
#include "boxes/box_math.h"
#include "boxes/boxes_cuda.h"

namespace cvk {
namespace boxes {
namespace {

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

template <PairKind K, class T>
__global__ void pairwise_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                T* __restrict__ out, int64_t B, int64_t N, int64_t M, T eps) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= M) return;
  const bool angle = K == PairKind::CIoU;
  // grid.y and grid.z are capped at 65535: stride over larger N and B.
  for (int64_t bi = blockIdx.z; bi < B; bi += gridDim.z) {
    const BoxInfo<T> bj = box_info(b + 4 * (bi * M + j), angle);
    for (int64_t i = blockIdx.y; i < N; i += gridDim.y) {
      const BoxInfo<T> ai = box_info(a + 4 * (bi * N + i), angle);
      out[(bi * N + i) * M + j] = pair_value<K>(ai, bj, eps);
    }
  }
}

template <PairKind K, class T>
__global__ void pairwise_grad_a_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                       const T* __restrict__ g, T* __restrict__ ga, int64_t B,
                                       int64_t N, int64_t M, T eps) {
  const int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (r >= B * N) return;
  const int64_t bi = r / N;
  T acc[4] = {0, 0, 0, 0}, scratch[4] = {0, 0, 0, 0};
  for (int64_t j = 0; j < M; ++j)
    pair_value_grad<K, false>(a + 4 * r, b + 4 * (bi * M + j), eps, g[r * M + j], acc, scratch);
  for (int k = 0; k < 4; ++k) ga[4 * r + k] = acc[k];
}

template <PairKind K, class T>
__global__ void pairwise_grad_b_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                       const T* __restrict__ g, T* __restrict__ gb, int64_t B,
                                       int64_t N, int64_t M, T eps) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= B * M) return;
  const int64_t bi = c / M, j = c % M;
  T acc[4] = {0, 0, 0, 0}, scratch[4] = {0, 0, 0, 0};
  for (int64_t i = 0; i < N; ++i)
    pair_value_grad<K, false>(a + 4 * (bi * N + i), b + 4 * c, eps, g[(bi * N + i) * M + j],
                              scratch, acc);
  for (int k = 0; k < 4; ++k) gb[4 * c + k] = acc[k];
}

template <PairKind K, class T>
__global__ void loss_kernel(const T* __restrict__ a, const T* __restrict__ b,
                            const T* __restrict__ g, T* __restrict__ out, T* __restrict__ ga,
                            T* __restrict__ gb, int64_t n, T eps) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  if (ga == nullptr) {
    out[i] = pair_value_grad<K, true>(a + 4 * i, b + 4 * i, eps, T(0), (T*)nullptr, (T*)nullptr);
    return;
  }
  T pa[4] = {0, 0, 0, 0}, pb[4] = {0, 0, 0, 0};
  pair_value_grad<K, true>(a + 4 * i, b + 4 * i, eps, g[i], pa, pb);
  for (int k = 0; k < 4; ++k) {
    ga[4 * i + k] = pa[k];
    gb[4 * i + k] = pb[k];
  }
}

template <class T>
__global__ void area_kernel(const T* __restrict__ b, T* __restrict__ out, int64_t n) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
}

template <class T>
__global__ void convert_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t n,
                               BoxFmt f, BoxFmt t) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) convert_box(f, t, in + 4 * i, out + 4 * i);
}


}  // namespace

void pairwise_cuda(int kind, int dtype, const void* a, const void* b, void* out, int64_t B,
                   int64_t N, int64_t M, double eps, void* stream) {
  if (B == 0 || N == 0 || M == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      dim3 grid(blocks_for(M), static_cast<unsigned>(std::min<int64_t>(N, 65535)),
                static_cast<unsigned>(std::min<int64_t>(B, 65535)));
      pairwise_kernel<decltype(k)::value, T><<<grid, kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), B, N, M,
          static_cast<T>(eps));
    });
  });
  check_launch("pairwise boxes");
}

void pairwise_backward_cuda(int kind, int dtype, const void* a, const void* b, const void* grad,
                            void* grad_a, void* grad_b, int64_t B, int64_t N, int64_t M,
                            double eps, void* stream) {
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      constexpr PairKind K = decltype(k)::value;
      const T* pa = static_cast<const T*>(a);
      const T* pb = static_cast<const T*>(b);
      const T* pg = static_cast<const T*>(grad);
      if (B * N > 0)
        pairwise_grad_a_kernel<K, T><<<blocks_for(B * N), kThreads, 0, as_stream(stream)>>>(
            pa, pb, pg, static_cast<T*>(grad_a), B, N, M, static_cast<T>(eps));
      if (B * M > 0)
        pairwise_grad_b_kernel<K, T><<<blocks_for(B * M), kThreads, 0, as_stream(stream)>>>(
            pa, pb, pg, static_cast<T*>(grad_b), B, N, M, static_cast<T>(eps));
    });
  });
  check_launch("pairwise boxes backward");
}

void loss_cuda(int kind, int dtype, const void* a, const void* b, void* out, int64_t n,
               double eps, void* stream) {
  if (n == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      loss_kernel<decltype(k)::value, T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(a), static_cast<const T*>(b), nullptr, static_cast<T*>(out),
          nullptr, nullptr, n, static_cast<T>(eps));
    });
  });
  check_launch("box loss");
}

void loss_backward_cuda(int kind, int dtype, const void* a, const void* b, const void* grad,
                        void* grad_a, void* grad_b, int64_t n, double eps, void* stream) {
  if (n == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    dispatch_kind(kind, [&](auto k) {
      loss_kernel<decltype(k)::value, T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(grad),
          nullptr, static_cast<T*>(grad_a), static_cast<T*>(grad_b), n, static_cast<T>(eps));
    });
  });
  check_launch("box loss backward");
}

void area_cuda(int dtype, const void* boxes, void* out, int64_t n, void* stream) {
  if (n == 0) return;
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    area_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(boxes), static_cast<T*>(out), n);
  });
  check_launch("box_area");
}

void convert_cuda(int dtype, const void* in, void* out, int64_t n, int from_fmt, int to_fmt,
                  void* stream) {
  if (n == 0) return;
  if (from_fmt < 0 || from_fmt > 2 || to_fmt < 0 || to_fmt > 2)
    throw std::invalid_argument("cvkernels: unknown box format code");
  dispatch_float(dtype, [&](auto zero) {
    using T = decltype(zero);
    convert_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const T*>(in), static_cast<T*>(out), n, static_cast<BoxFmt>(from_fmt),
        static_cast<BoxFmt>(to_fmt));
  });
  check_launch("box_convert");
}

}  // namespace boxes
}  // namespace cvk
