"""Plain numpy versions of every op, written straight from the definitions and readable
first. The tests use them as ground truth; they are shipped so users can check us too."""

from .boxes import (
    box_area,
    box_convert,
    box_iou,
    box_iou_loss,
    box_iou_rotated,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
)
from . import assignment, classification, decode, masks, panoptic
from .losses import sigmoid_focal_loss, softmax_focal_loss
from .conv import dilated_conv2d
from .keypoints import keypoint_oks
from .nms import batched_nms, multiclass_nms, nms, nms_rotated, soft_nms
from .roi import roi_align, roi_pool

__all__ = [
    "assignment",
    "classification",
    "panoptic",
    "box_area",
    "decode",
    "box_convert",
    "box_iou",
    "box_iou_rotated",
    "box_iou_loss",
    "complete_box_iou",
    "dilated_conv2d",
    "distance_box_iou",
    "generalized_box_iou",
    "keypoint_oks",
    "masks",
    "nms",
    "nms_rotated",
    "batched_nms",
    "soft_nms",
    "multiclass_nms",
    "roi_align",
    "roi_pool",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
]
