// COCO run-length encoding (pycocotools' maskApi, same formats and values): a binary mask of
// h x w pixels in column-major order is the lengths of alternating runs of 0s and 1s, starting
// with 0s. Compressed strings store each length minus the one two places back (after the
// first three), 5 bits per character, as pycocotools does, so the bytes are identical.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvk {
namespace rle {

struct Rle {
  int64_t h = 0, w = 0;
  std::vector<uint32_t> cnts;
};

// n masks, each h*w bytes in column-major order, one after the other (a Fortran (h, w, n)
// array). A change of byte value starts a new run (masks are expected to hold 0 / 1).
std::vector<Rle> encode(const uint8_t* masks, int64_t h, int64_t w, int64_t n);
// Writes each mask's h*w bytes (column-major), one after the other. The runs must cover the
// mask exactly (checked by from_string / the caller).
void decode(const std::vector<Rle>& r, uint8_t* out);

std::string to_string(const Rle& r);
// False (and why) for a malformed string: a character outside '0'..'o', a truncated number,
// a negative length, or lengths that do not add up to h*w.
bool from_string(const char* s, size_t n, int64_t h, int64_t w, Rle& out, std::string& why);

uint64_t area(const Rle& r);
void to_bbox(const Rle& r, double* bb);  // x, y, w, h
Rle merge(const std::vector<const Rle*>& rs, bool intersect);
// IoU (D, G) row-major (pycocotools returns it as (m, n) = (D, G)); crowd: intersection over
// the detection's area. -1 where the sizes differ.
void iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt, const uint8_t* crowd,
         double* out);
// dt_box / gt_box: the masks' boxes (to_bbox, 4 per mask) when the caller has them; computed here
// when null.
void iou(const Rle* const* dt, size_t D, const Rle* const* gt, size_t G, const uint8_t* crowd,
         double* out, const double* dt_box = nullptr, const double* gt_box = nullptr);
// Polygon (k points x, y) rasterized as pycocotools does (5x upsampled boundary).
Rle from_polygon(const double* xy, int64_t k, int64_t h, int64_t w);
Rle from_bbox(const double* bb, int64_t h, int64_t w);

}  // namespace rle
}  // namespace cvk
