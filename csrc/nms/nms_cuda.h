// CUDA entry points of NMS (built with CVK_CUDA=ON). The Python layer ranks and gathers with
// torch (stable sorts) and passes device buffers; `stream` is the caller's cudaStream_t.
#pragma once

#include <cstdint>

namespace cvk {
namespace nms {

// Greedy NMS of n boxes already in rank order (cls: class of each, or null for one class):
// an (n x ceil(n/64)) suppression bitmask, then a one-block walk over it on the device.
// Writes kept positions (into the ranked order) to keep and their number to *count (device).
// At most kMaxSortedBoxes boxes: the walk keeps its removed bitset in 48 KiB of shared memory
// (the n x n/64 mask of that many boxes is already 19 GB).
constexpr int64_t kMaxSortedBoxes = 48 * 1024 * 8;
void nms_cuda(int dtype, const void* boxes, const int64_t* cls, int64_t n, double iou_thr,
              int64_t* mask, int64_t* keep, int64_t* count, void* stream);

// Soft-NMS, one thread block per segment [offsets[k], offsets[k+1]) of the boxes (a class).
// Segment k writes its selections (positions, decayed scores) from offsets[k], and their
// number to counts[k].
void soft_nms_cuda(int dtype, const void* boxes, const void* scores, const int64_t* offsets,
                   int64_t segments, double iou_thr, double sigma, double score_thr, int method,
                   int64_t* keep, void* kept_scores, int64_t* counts, void* stream);

// Greedy NMS of many independent candidate sets (multiclass_nms), one block per set. Set s of
// image b = s / sets_per_image has cand[s * L ...] candidate ids (n * C + c) in rank order, of
// which the first valid[s] pass the score threshold. Keeps at most cap per set: ids to
// kept_ids[s * cap ...], count to kept_n[s]; scratch holds (sets, cap, 4) kept boxes.
void greedy_sets_cuda(int dtype, const void* boxes, const int64_t* cand, const int64_t* valid,
                      int64_t sets, int64_t sets_per_image, int64_t L, int64_t N, int64_t C,
                      bool boxes_per_class, double iou_thr, int64_t cap, int64_t* kept_ids,
                      int64_t* kept_n, void* scratch, void* stream);

}  // namespace nms
}  // namespace cvk
