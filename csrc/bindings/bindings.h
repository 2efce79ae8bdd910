// The register functions of the CPU module's areas (module.cpp calls them). Array arguments
// arrive as checked buffers (buffer.h); boxes, roi and conv register from templates shared with
// the CUDA module (boxes.h, roi.h, conv.h). The GIL is released around every kernel.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <tuple>
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
// The same from sizes and compressed counts strings (copied out of Python already).
std::vector<rle::Rle> parse_rle_strings(const std::vector<int64_t>& hs, const std::vector<int64_t>& ws,
                                        const std::vector<std::string>& strs, const char* label);
// A segmentation that is a plain compressed RLE dict ({"size": [h, w] ints, "counts": ASCII str
// or bytes}): its size and counts; false for anything else (polygons, run lists, subclasses).
// Needs the GIL.
bool compressed_rle_of(PyObject* segm, int64_t& h, int64_t& w, std::string& counts);

}  // namespace bindings
}  // namespace cvk
