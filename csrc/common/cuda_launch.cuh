// What every CUDA translation unit shares: the caller's stream from the opaque pointer the
// bindings pass, a launch check that turns a CUDA error into a Python-visible exception, and a
// warp's sum of per-lane counts.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace cvk {

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

inline void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("cvkernels: CUDA launch of ") + what + " failed: " +
                             cudaGetErrorString(err));
}

// A CUDA runtime call's own error (a memset or copy that failed to enqueue), at the call.
inline void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("cvkernels: CUDA ") + what + " failed: " + cudaGetErrorString(err));
}

// Adds each of the counters over the 32 lanes of a (full) warp; lane 0 holds the sums.
template <class... T>
__device__ void warp_sum(T&... v) {
  for (int o = 16; o > 0; o >>= 1) ((v += __shfl_down_sync(0xffffffffu, v, o)), ...);
}

}  // namespace cvk
