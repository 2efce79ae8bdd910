// DETR's matching cost of one prediction and one ground-truth object (HungarianMatcher):
//   cost = w_bbox * L1(pred, gt) + w_class * (-p[label]) + w_giou * (-GIoU(pred, gt))
// with boxes as (cx, cy, w, h), L1 summed over the four numbers in order (torch.cdist, p=1),
// GIoU on the corners (box_math.h's, torchvision's arithmetic) and the three terms added left
// to right: the float operations torch performs, so the costs are the same bits.
#pragma once

#include "boxes/box_math.h"
#include "common/cvk.h"

namespace cvk {
namespace assignment {

template <class T>
CVK_HD inline T abs_diff(T a, T b) {
  const T d = a - b;
  return d < T(0) ? -d : d;
}

// pred, gt: (cx, cy, w, h); pi, gi: their corner infos (iou_box of the xyxy corners).
template <class T>
CVK_HD inline T detr_cost(T prob, const T* pred, const boxes::BoxInfo<T>& pi, const T* gt, const boxes::BoxInfo<T>& gi,
                          T w_class,
                          T w_bbox, T w_giou) {
  const T l1 = ((abs_diff(pred[0], gt[0]) + abs_diff(pred[1], gt[1])) + abs_diff(pred[2], gt[2])) +
               abs_diff(pred[3], gt[3]);
  const T giou = boxes::pair_value<boxes::PairKind::GIoU>(pi, gi, T(0));
  return (w_bbox * l1 + w_class * (-prob)) + w_giou * (-giou);
}

}  // namespace assignment
}  // namespace cvk
