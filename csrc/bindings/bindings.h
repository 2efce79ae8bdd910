// The register functions of the CPU module's areas (module.cpp calls them). Array arguments
// arrive as checked buffers (buffer.h); boxes, roi and conv register from templates shared with
// the CUDA module (boxes.h, roi.h, conv.h). The GIL is released around every kernel.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <string_view>
#include <vector>

#include "masks/rle.h"

namespace cvk {
namespace bindings {


void register_common(pybind11::module_& m);
void register_nms(pybind11::module_& m);
void register_eval(pybind11::module_& m);
void register_masks(pybind11::module_& m);
void register_rle(pybind11::module_& m);
void register_assignment(pybind11::module_& m);
void register_losses(pybind11::module_& m);
void register_decode(pybind11::module_& m);
void register_rotated(pybind11::module_& m);
void register_classification(pybind11::module_& m);
void register_panoptic(pybind11::module_& m);

// A COCO RLE as it crosses the boundary: (h, w, compressed counts bytes).
using RleObj = std::tuple<int64_t, int64_t, pybind11::bytes>;
// Parses RLEs in parallel (rle.cpp); errors name `label` and the index.
std::vector<rle::Rle> parse_rles(const std::vector<RleObj>& objs, const char* label);
// The same from sizes and compressed counts strings (views of Python objects that the caller
// keeps alive; read without the GIL).
std::vector<rle::Rle> parse_rle_strings(const std::vector<int64_t>& hs, const std::vector<int64_t>& ws,
                                        const std::vector<std::string_view>& strs, const char* label);
// A segmentation that is a plain compressed RLE dict ({"size": [h, w] ints, "counts": ASCII str
// or bytes}): its size and a view of its counts' characters, whose owner (the counts object) is
// appended to `owners` (so the view outlives any edit of the dict while the GIL is released);
// false for anything else (polygons, run lists, subclasses). Needs the GIL.
bool compressed_rle_of(PyObject* segm, int64_t& h, int64_t& w, std::string_view& counts,
                       std::vector<pybind11::object>& owners);

}  // namespace bindings
}  // namespace cvk
