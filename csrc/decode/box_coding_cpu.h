// CPU box coding kernels (box_coding.h's arithmetic).
#pragma once

#include <cstdint>

namespace cvk {
namespace decode {

// n boxes: out[i] = decode_box(deltas[i], anchors[i]) / encode_box(boxes[i], refs[i]); w: 4 weights.
template <class T>
void decode_boxes(const T* deltas, const T* anchors, int64_t n, const T* w, T clip, T* out);
template <class T>
void encode_boxes(const T* boxes, const T* refs, int64_t n, const T* w, T* out);

// One level of single-stage post-processing (torchvision's RetinaNet): logits (N, C), deltas and
// anchors (N, 4). The at most topk (anchor, class) pairs with sigmoid(logit) > score_thresh, by
// descending score (ties by anchor, then class), each box decoded and, when img_w >= 0, clipped
// to [0, img_w] x [0, img_h]. Writes k rows of boxes (k, 4), scores, labels (the class) and
// anchor_idx; returns k.
template <class T>
int64_t decode_topk(const T* logits, const T* deltas, const T* anchors, int64_t N, int64_t C, double score_thresh,
                    int64_t topk, const T* w, T clip, T img_h, T img_w, T* boxes, T* scores, int64_t* labels,
                    int64_t* anchor_idx);

}  // namespace decode
}  // namespace cvk
