"""torch.ops.cvkernels NMS operators: schemas, CPU/CUDA implementations (the launchers of
cvkernels._launch.nms with the torch adapter) and fake kernels (data-dependent output sizes
are dynamic)."""

from __future__ import annotations

import torch

from .._launch import nms as launch
from ._common import TORCH, impl, lib

lib.define("nms(Tensor boxes, Tensor scores, float iou_threshold) -> Tensor")
lib.define("batched_nms(Tensor boxes, Tensor scores, Tensor idxs, float iou_threshold) -> Tensor")
lib.define(
    "soft_nms(Tensor boxes, Tensor scores, Tensor? idxs, float iou_threshold=0.3, float sigma=0.5, "
    "float score_threshold=0.001, str method='gaussian') -> (Tensor, Tensor)"
)
lib.define(
    "multiclass_nms(Tensor boxes, Tensor scores, float score_threshold=0.05, float iou_threshold=0.5, "
    "int max_output_per_class=100, int max_total=100, bool class_agnostic=False) -> (Tensor, Tensor, Tensor, Tensor)"
)


def _fake_check(boxes, scores, idxs=None):
    launch.check_shapes(boxes.shape, scores.shape, None if idxs is None else idxs.shape)
    TORCH.same_device(boxes=boxes, scores=scores, idxs=idxs)
    if idxs is not None and not TORCH.is_integer(idxs.dtype):
        raise TypeError(f"idxs must be an integer tensor, got {idxs.dtype}")
    return launch.compute_dtype(TORCH, boxes, scores)


def _dynamic_keep(boxes):
    return boxes.new_empty((torch.library.get_ctx().new_dynamic_size(),), dtype=torch.int64)


impl("nms", lambda boxes, scores, iou_threshold: launch.nms(TORCH, boxes, scores, iou_threshold))
impl("batched_nms", lambda boxes, scores, idxs, iou_threshold: launch.nms(TORCH, boxes, scores, iou_threshold, idxs))


@torch.library.register_fake("cvkernels::nms")
def _(boxes, scores, iou_threshold):
    _fake_check(boxes, scores)
    return _dynamic_keep(boxes)


@torch.library.register_fake("cvkernels::batched_nms")
def _(boxes, scores, idxs, iou_threshold):
    _fake_check(boxes, scores, idxs)
    return _dynamic_keep(boxes)


def _soft_out_dtype(scores, ct):
    return scores.dtype if scores.dtype.is_floating_point else ct


def _soft_nms(boxes, scores, idxs, iou_threshold=0.3, sigma=0.5, score_threshold=0.001, method="gaussian"):
    m = launch.method(method)
    keep, new_scores = launch.soft_nms(TORCH, boxes, scores, idxs, iou_threshold, sigma, score_threshold, m)
    return keep, new_scores.to(_soft_out_dtype(scores, new_scores.dtype))


impl("soft_nms", _soft_nms)


@torch.library.register_fake("cvkernels::soft_nms")
def _(boxes, scores, idxs, iou_threshold=0.3, sigma=0.5, score_threshold=0.001, method="gaussian"):
    ct = _fake_check(boxes, scores, idxs)
    launch.method(method)
    k = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((k,), dtype=torch.int64), boxes.new_empty((k,), dtype=_soft_out_dtype(scores, ct))


def _multiclass_nms(boxes, scores, score_threshold=0.05, iou_threshold=0.5, max_output_per_class=100, max_total=100,
                    class_agnostic=False):
    return launch.multiclass_nms(TORCH, boxes, scores, score_threshold, iou_threshold, max_output_per_class,
                                 max_total, class_agnostic)


impl("multiclass_nms", _multiclass_nms)


@torch.library.register_fake("cvkernels::multiclass_nms")
def _(boxes, scores, score_threshold=0.05, iou_threshold=0.5, max_output_per_class=100, max_total=100,
      class_agnostic=False):
    TORCH.same_device(boxes=boxes, scores=scores)
    if max_output_per_class < 0 or max_total < 0:
        raise ValueError("max_output_per_class and max_total must be >= 0")
    B, _, _, _ = launch.multiclass_spec(boxes.shape, scores.shape)
    ct = launch.compute_dtype(TORCH, boxes, scores)
    return (
        boxes.new_empty((B,), dtype=torch.int64),
        boxes.new_empty((B, max_total, 4), dtype=ct),
        boxes.new_empty((B, max_total), dtype=ct),
        boxes.new_empty((B, max_total), dtype=torch.int64),
    )


# --- quantized tensors (torchvision's QuantizedCPU nms): NMS of the dequantized values --------

def _quantized_nms(boxes, scores, iou_threshold):
    return torch.ops.cvkernels.nms(boxes.dequantize(), scores.dequantize(), iou_threshold)


lib.impl("nms", _quantized_nms, "QuantizedCPU")
