// Object keypoint similarity (OKS), pycocotools' COCOeval.computeOks, for one image and
// category: D detections x G ground truths, K keypoints each as (x, y, visibility) triples.
//
//   OKS(d, g) = mean over g's visible keypoints (v > 0) of exp(-e_k),
//   e_k = (dx_k^2 + dy_k^2) / (2 sigma_k)^2 / (area_g + eps) / 2,        eps = 2^-52
// where dx, dy is the detection's offset from the ground-truth keypoint. A ground truth with
// no visible keypoint averages over all K keypoints, with dx, dy the distance of the detection's
// keypoint outside the ground-truth box grown by its size on every side ([x - w, x + 2w]).
// The sum follows numpy's pairwise summation, so the result is pycocotools' to the rounding
// of exp (numpy's SIMD exp and the C library's may differ in the last bit).
#pragma once

#include <cstdint>

namespace cvk {
namespace eval {

// dt: (D, 3K), gt: (G, 3K), gt_box: (G, 4) as (x, y, w, h), gt_area: (G), sigmas: (K);
// out[d * G + g]. Visibility of detections is not read (as in pycocotools).
void keypoint_oks(const double* dt, int64_t D, const double* gt, int64_t G, const double* gt_box,
                  const double* gt_area, const double* sigmas, int64_t K, double* out);

}  // namespace eval
}  // namespace cvk
