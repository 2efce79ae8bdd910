"""cvkernels: fast, exact kernels for detection and segmentation pipelines.

Every op takes torch tensors or numpy arrays and returns the caller's type. See README.md.
"""

from __future__ import annotations

import sys as _sys

from . import reference
from ._frontend import InputError, InputTypeError
from ._threads import get_num_threads, set_num_threads
from .ap import average_precision, keypoint_oks, match_detections
from .assignment import hungarian_match, linear_sum_assignment
from .losses import dice_ce_loss, sigmoid_focal_loss, softmax_focal_loss
from .decode import anchor_grid, decode_boxes, decode_topk, decode_yolo, encode_boxes, heatmap_peaks
from .mask_metrics import dice_loss, dice_score, iou_score, pairwise_mask_dice, pairwise_mask_iou
from .nms import batched_nms, batched_soft_nms, multiclass_nms, nms, soft_nms
from .roi import roi_align, roi_pool
from .conv import dilated_conv2d
from .boxes import (
    box_area,
    box_convert,
    box_iou,
    box_iou_rotated,
    batched_nms_rotated,
    complete_box_iou,
    complete_box_iou_loss,
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou,
    generalized_box_iou_loss,
    nms_rotated,
)

__version__ = "0.1.0"


def __getattr__(name):
    # cvkernels.nn and the Metric classes need torch, cvkernels.coco is large: import them (and
    # cvkernels.mask, pycocotools.mask's interface) when asked for.
    if name in ("nn", "coco", "mask", "metrics", "panoptic", "lvis"):
        import importlib

        return importlib.import_module("." + name, __name__)
    if name in ("RoIAlign", "RoIPool", "MultiScaleRoIAlign"):  # torchvision.ops' modules (need torch)
        from . import nn

        return getattr(nn, name)
    if name == "patch_torchvision":
        from ._patch import patch_torchvision

        return patch_torchvision
    raise AttributeError(f"module 'cvkernels' has no attribute {name!r}")


def register_torch_ops() -> None:
    """Import torch and register torch.ops.cvkernels.* now (otherwise done on first use)."""
    from . import _torch

    _torch.ensure_registered()


if _sys.modules.get("torch") is not None:
    register_torch_ops()

__all__ = [
    "InputError",
    "anchor_grid",
    "decode_boxes",
    "decode_topk",
    "decode_yolo",
    "encode_boxes",
    "InputTypeError",
    "batched_nms",
    "batched_nms_rotated",
    "batched_soft_nms",
    "average_precision",
    "box_area",
    "box_convert",
    "box_iou",
    "box_iou_rotated",
    "complete_box_iou",
    "complete_box_iou_loss",
    "distance_box_iou",
    "dice_ce_loss",
    "dice_loss",
    "dilated_conv2d",
    "dice_score",
    "distance_box_iou_loss",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "get_num_threads",
    "heatmap_peaks",
    "hungarian_match",
    "iou_score",
    "keypoint_oks",
    "linear_sum_assignment",
    "match_detections",
    "multiclass_nms",
    "nms",
    "nms_rotated",
    "pairwise_mask_dice",
    "pairwise_mask_iou",
    "register_torch_ops",
    "roi_align",
    "roi_pool",
    "set_num_threads",
    "sigmoid_focal_loss",
    "soft_nms",
    "softmax_focal_loss",
]
