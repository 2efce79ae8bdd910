// What every CUDA translation unit shares: the caller's stream from the opaque pointer the
// bindings pass, and a launch check that turns a CUDA error into a Python-visible exception.
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

}  // namespace cvk
