// Shared pieces of the pybind11 bindings. Every kernel takes buffers as integer addresses
// (numpy's .ctypes.data, torch's .data_ptr()) plus sizes: the Python layer has already
// validated shapes, dtypes, devices and contiguity, and allocated the outputs. The GIL is
// released around every kernel.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "masks/rle.h"

namespace cvk {
namespace bindings {

inline const void* cptr(uintptr_t p) { return reinterpret_cast<const void*>(p); }
inline void* mptr(uintptr_t p) { return reinterpret_cast<void*>(p); }

using nogil = pybind11::call_guard<pybind11::gil_scoped_release>;

void register_common(pybind11::module_& m);
void register_nms(pybind11::module_& m);
void register_eval(pybind11::module_& m);
void register_masks(pybind11::module_& m);
void register_rle(pybind11::module_& m);

// A COCO RLE as it crosses the boundary: (h, w, compressed counts bytes).
using RleObj = std::tuple<int64_t, int64_t, pybind11::bytes>;
// Parses RLEs in parallel (rle.cpp); errors name `label` and the index.
std::vector<rle::Rle> parse_rles(const std::vector<RleObj>& objs, const char* label);

}  // namespace bindings
}  // namespace cvk
