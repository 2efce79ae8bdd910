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

// One YOLO level of one image (yolo.h): pred (A, H, W, 5 + C) raw outputs, anchors (A, 2) in
// pixels. Cells whose best class score sig(obj) sig(cls_c) (the first c on ties) is above
// conf_thres, the topk best by score (ties by cell index), their boxes decoded. Writes k rows of
// boxes (k, 4), scores, labels and index (the cell's flat index a H W + y W + x); returns k.
template <class T>
int64_t decode_yolo(const T* pred, const T* anchors, int64_t A, int64_t H, int64_t W, int64_t C, T stride, bool v5,
                    double conf_thres, int64_t topk, T* boxes, T* scores, int64_t* labels, int64_t* index);

}  // namespace decode
}  // namespace cvk
