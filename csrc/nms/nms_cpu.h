// CPU entry points of non-maximum suppression. Boxes (n, 4) xyxy and scores (n,) of dtype
// `dtype` (0 float32, 1 float64), contiguous. Outputs are caller-provided buffers of capacity
// n; variable-length results return their count.
#pragma once

#include <cstdint>

namespace cvk {
namespace nms {

// Greedy NMS: kept indices in decreasing score order (ties: lower index first; NaN score is
// lowest). Returns the number kept.
int64_t nms_cpu(int dtype, const void* boxes, const void* scores, int64_t n, double iou_thr,
                int64_t* keep);

// Per-class NMS (classes = idxs, any int64 values), merged in decreasing score order.
int64_t batched_nms_cpu(int dtype, const void* boxes, const void* scores, const int64_t* idxs,
                        int64_t n, double iou_thr, int64_t* keep);

// Soft-NMS (method 0 gaussian, 1 linear); idxs may be null (one class). Writes the selected
// indices and their decayed scores in selection order (decreasing decayed score, merged across
// classes). Returns the count.
int64_t soft_nms_cpu(int dtype, const void* boxes, const void* scores, const int64_t* idxs,
                     int64_t n, double iou_thr, double sigma, double score_thr, int method,
                     int64_t* keep, void* new_scores);

// Fixed-shape multi-image, multi-class NMS. boxes (B, N, 4) or, with boxes_per_class,
// (B, N, C, 4); scores (B, N, C). Outputs: num_det (B,), out_boxes (B, K, 4), out_scores
// (B, K), out_classes (B, K) with K = max_total, padded with 0 (classes with -1).
void multiclass_nms_cpu(int dtype, const void* boxes, const void* scores, int64_t B, int64_t N,
                        int64_t C, bool boxes_per_class, double score_thr, double iou_thr,
                        int64_t max_per_class, int64_t max_total, bool class_agnostic,
                        int64_t* num_det, void* out_boxes, void* out_scores,
                        int64_t* out_classes);

}  // namespace nms
}  // namespace cvk
