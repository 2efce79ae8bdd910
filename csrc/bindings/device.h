// The device an extension module serves. The entry points of each area are written once, as
// templates over the device (bindings/<area>.h), and registered by _C with Cpu and by _C_cuda
// with Cuda: both modules take the same arguments, the trailing `stream` included (the
// caller's cudaStream_t as an integer; the CPU module accepts only 0).
#pragma once

#include <cstdint>
#include <stdexcept>

#include <pybind11/stl.h>

#include "bindings/buffer.h"

namespace cvk {
namespace bindings {

struct Cpu {
  static constexpr bool cuda = false;
  static constexpr int device_type = kCPU;
  // Nothing to switch on the CPU; checks that no stream was passed.
  struct Guard {
    Guard(const Buffer&, uintptr_t stream) {
      if (stream != 0) throw py::value_error("stream must be 0 for CPU buffers");
    }
  };
};

// Module-wide constants, exported once so that Python never copies a number by hand.
void register_constants(py::module_& m);

}  // namespace bindings
}  // namespace cvk

// Runs `fn_cpu(args...)` in _C and `fn_cuda(args..., stream)` in _C_cuda (Dev is the template
// parameter of the entry; the other branch is discarded at compile time and never linked).
#define CVK_RUN(fn, ...)                                          \
  do {                                                            \
    if constexpr (Dev::cuda)                                      \
      fn##_cuda(__VA_ARGS__, reinterpret_cast<void*>(stream));    \
    else                                                          \
      fn##_cpu(__VA_ARGS__);                                      \
  } while (0)
