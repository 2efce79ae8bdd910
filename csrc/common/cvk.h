// The few definitions every kernel shares.
//
// CVK_HD marks math that must run identically on the CPU and on the GPU: it lives once in a
// header (csrc/<area>/*.h), the CPU tests exercise it, and the CUDA kernels include the same
// lines. Kernels see raw pointers and sizes only; the Python layer owns allocation.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define CVK_HD __host__ __device__
#define CVK_FORCEINLINE __forceinline__
#else
#define CVK_HD
#define CVK_FORCEINLINE inline __attribute__((always_inline))
#endif

namespace cvk {

// dtype codes of the kernels; the bindings derive them from the checked buffers (Elem in
// bindings/buffer.h has the same values for float32 and float64).
enum class DType : int { Float32 = 0, Float64 = 1 };

inline DType dtype_from_int(int code) {
  if (code == 0) return DType::Float32;
  if (code == 1) return DType::Float64;
  throw std::invalid_argument("cvkernels: unsupported dtype code " + std::to_string(code));
}

// Calls f(float{}) or f(double{}) for the dtype code, so kernels are written once as templates.
template <class F>
decltype(auto) dispatch_float(int dtype, F&& f) {
  switch (dtype_from_int(dtype)) {
    case DType::Float32: return f(float{});
    default: return f(double{});
  }
}

template <class T>
CVK_HD inline T cvk_min(T a, T b) { return b < a ? b : a; }
template <class T>
CVK_HD inline T cvk_max(T a, T b) { return a < b ? b : a; }

}  // namespace cvk
