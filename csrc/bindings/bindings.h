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

// A dict key the readers look up in every result: interned, so that it is the very object of
// the keys a Python source wrote as literals (also interned), and a dict lookup matches it by
// identity instead of comparing characters.
inline pybind11::str interned_key(const char* s) {
  return pybind11::reinterpret_steal<pybind11::str>(PyUnicode_InternFromString(s));
}

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
// Compressed RLEs as read from Python objects, to be parsed without the GIL: their sizes and
// views of their counts' characters. `owners` keeps the counts objects of dicts alive, so that a
// view outlives any edit of its dict while the GIL is released.
struct RleStrings {
  std::vector<int64_t> hs, ws;
  std::vector<std::string_view> counts;
  std::vector<pybind11::object> owners;

  explicit RleStrings(size_t n = 0);
  size_t size() const { return counts.size(); }
  // Appends a segmentation that is a plain compressed RLE dict ({"size": [h, w] ints, "counts":
  // ASCII str or bytes}); false, appending nothing, for anything else (polygons, run lists,
  // subclasses). Needs the GIL.
  bool add_dict(PyObject* segm);
};
// The same as views of the bytes objects that objs holds.
RleStrings strings_of(const std::vector<RleObj>& objs);
// Parses them in parallel (rle.cpp); errors name `label` and the index. Given `area` (n
// doubles) and / or `box` (4 n), it also writes each mask's area (pycocotools' uint32 values)
// and box (x, y, w, h) while the mask's runs are still in the cache.
std::vector<rle::Rle> parse_rle_strings(const RleStrings& in, const char* label, double* area = nullptr,
                                        double* box = nullptr);

}  // namespace bindings
}  // namespace cvk
