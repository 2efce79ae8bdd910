// Pairwise IoU of rotated boxes on CUDA: one thread per pair (grid-stride), the arithmetic of
// rotated.h (the CPU kernel's), in double. Compiled in CI; not yet run on a GPU.
#include <cuda_runtime.h>

#include <algorithm>

#include "boxes/rotated.h"
#include "boxes/rotated_cuda.h"
#include "common/cuda_launch.cuh"

namespace cvk {
namespace boxes {
namespace {

template <class T>
__global__ void rotated_iou_kernel(const T* a, int64_t n, const T* b, int64_t m, T* out) {
  const int64_t total = n * m;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = idx / m, j = idx % m;
    double da[5], db[5];
    for (int k = 0; k < 5; ++k) {
      da[k] = static_cast<double>(a[5 * i + k]);
      db[k] = static_cast<double>(b[5 * j + k]);
    }
    out[idx] = static_cast<T>(rotated_iou(da, db));
  }
}

}  // namespace

void box_iou_rotated_cuda(int dtype, const void* a, int64_t n, const void* b, int64_t m, void* out, void* stream) {
  if (n == 0 || m == 0) return;
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((n * m + kThreads - 1) / kThreads, int64_t(1) << 20);
  if (dtype == 0)
    rotated_iou_kernel<float><<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream)>>>(
        static_cast<const float*>(a), n, static_cast<const float*>(b), m, static_cast<float*>(out));
  else
    rotated_iou_kernel<double><<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream)>>>(
        static_cast<const double*>(a), n, static_cast<const double*>(b), m, static_cast<double*>(out));
  check_launch("box_iou_rotated");
}

}  // namespace boxes
}  // namespace cvk
