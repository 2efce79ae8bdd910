"""TorchScript versions of the public torch-facing functions.

The public functions take numpy arrays or tensors and check their arguments in Python, which
TorchScript cannot compile. Each function here has the public function's name, arguments and
defaults, takes tensors only, and calls the same torch.ops.cvkernels operator the eager tensor
path calls (the operators check shapes, dtypes and devices themselves). attach() compiles them
and enters each as the compiled form of its public function: torch.jit.script of the public
function, or of any module or function that calls it, uses this one. Eager calls, torch.fx and
torch.compile never come here.
"""

from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.jit.annotations import BroadcastingList2

ops = torch.ops.cvkernels


def _xyxy(boxes: Tensor, fmt: str) -> Tensor:
    if fmt == "xyxy":
        return boxes
    if fmt == "xywhr" or fmt == "cxcywhr" or fmt == "xyxyxyxy":
        raise ValueError("fmt: rotated boxes are not supported by cvkernels yet")
    return ops.box_convert(boxes, fmt, "xyxy")


def box_iou(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy") -> Tensor:
    return ops.box_iou(_xyxy(boxes1, fmt), _xyxy(boxes2, fmt))


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    return ops.generalized_box_iou(boxes1, boxes2)


def distance_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    return ops.distance_box_iou(boxes1, boxes2, eps)


def complete_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    return ops.complete_box_iou(boxes1, boxes2, eps)


def generalized_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    return ops.generalized_box_iou_loss(boxes1, boxes2, reduction, eps)


def distance_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    return ops.distance_box_iou_loss(boxes1, boxes2, reduction, eps)


def complete_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    return ops.complete_box_iou_loss(boxes1, boxes2, reduction, eps)


def box_area(boxes: Tensor, fmt: str = "xyxy") -> Tensor:
    if fmt == "xyxy":
        return ops.box_area(boxes)
    if fmt != "xywh" and fmt != "cxcywh":
        raise ValueError("fmt must be 'xyxy', 'xywh' or 'cxcywh'")
    # w * h, in the eager path's dtypes: small integers upcast to int32, half to float32
    if boxes.is_floating_point():
        if boxes.dtype == torch.float16 or boxes.dtype == torch.bfloat16:
            boxes = boxes.float()
    elif boxes.dtype != torch.int32 and boxes.dtype != torch.int64:
        boxes = boxes.int()
    return boxes[..., 2] * boxes[..., 3]


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    if _rotated(in_fmt) or _rotated(out_fmt):
        return rotated_convert(boxes, in_fmt, out_fmt)
    return ops.box_convert(boxes, in_fmt, out_fmt)


# --- rotated boxes (torchvision 0.29's formats; r in degrees, counter-clockwise) -------------
# Elementwise, with torchvision's formulas in its order of operations (so the same values);
# integer boxes are computed in float and rounded back at each step, as torchvision does.

def _rotated(fmt: str) -> bool:
    return fmt == "xywhr" or fmt == "cxcywhr" or fmt == "xyxyxyxy"


def _back(boxes: Tensor, dtype: torch.dtype, cast: bool) -> Tensor:
    return boxes.round().to(dtype) if cast else boxes


def _cxcywhr_to_xywhr(boxes: Tensor) -> Tensor:
    cx, cy, w, h, r = boxes.unbind(-1)
    rad = r * torch.pi / 180.0
    cos, sin = torch.cos(rad), torch.sin(rad)
    out = torch.stack((cx - w / 2 * cos - h / 2 * sin, cy - h / 2 * cos + w / 2 * sin, w, h, r), dim=-1)
    return _back(out, boxes.dtype, not boxes.is_floating_point())


def _xywhr_to_cxcywhr(boxes: Tensor) -> Tensor:
    x1, y1, w, h, r = boxes.unbind(-1)
    rad = r * torch.pi / 180.0
    cos, sin = torch.cos(rad), torch.sin(rad)
    out = torch.stack([x1 + w / 2 * cos + h / 2 * sin, y1 - w / 2 * sin + h / 2 * cos, w, h, r], dim=-1)
    return _back(out, boxes.dtype, not boxes.is_floating_point())


def _xywhr_to_xyxyxyxy(boxes: Tensor) -> Tensor:
    x1, y1, w, h, r = boxes.unbind(-1)
    rad = r * torch.pi / 180.0
    cos, sin = torch.cos(rad), torch.sin(rad)
    x2 = x1 + w * cos
    y2 = y1 - w * sin
    x3 = x2 + h * sin
    y3 = y2 + h * cos
    out = torch.stack((x1, y1, x2, y2, x3, y3, x1 + h * sin, y1 + h * cos), dim=-1)
    return _back(out, boxes.dtype, not boxes.is_floating_point())


def _xyxyxyxy_to_xywhr(boxes: Tensor) -> Tensor:
    x1, y1, x2, y2, x3, y3, x4, y4 = boxes.unbind(-1)
    r = torch.atan2(y1 - y2, x2 - x1) * 180 / torch.pi
    w = ((x2 - x1) ** 2 + (y1 - y2) ** 2).sqrt()
    h = ((x3 - x2) ** 2 + (y3 - y2) ** 2).sqrt()
    out = torch.stack((x1, y1, w, h, r), dim=-1)
    return _back(out, boxes.dtype, not boxes.is_floating_point())


def rotated_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Between the rotated formats xywhr / cxcywhr (..., 5) and xyxyxyxy (..., 8)."""
    if not _rotated(in_fmt) or not _rotated(out_fmt):
        raise ValueError("box_convert: between a rotated and an axis-aligned format is not defined (as torchvision)")
    width = 8 if in_fmt == "xyxyxyxy" else 5
    if boxes.dim() < 1 or boxes.size(-1) != width:
        raise ValueError("boxes in this rotated format need " + str(width) + " numbers in the last dimension")
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt == "cxcywhr":
        boxes = _cxcywhr_to_xywhr(boxes)
    elif in_fmt == "xyxyxyxy":
        boxes = _xyxyxyxy_to_xywhr(boxes)
    if out_fmt == "cxcywhr":
        return _xywhr_to_cxcywhr(boxes)
    if out_fmt == "xyxyxyxy":
        return _xywhr_to_xyxyxyxy(boxes)
    return boxes


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    return ops.nms(boxes, scores, iou_threshold)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    return ops.batched_nms(boxes, scores, idxs, iou_threshold)


def soft_nms(boxes: Tensor, scores: Tensor, iou_threshold: float = 0.3, sigma: float = 0.5,
             score_threshold: float = 0.001, method: str = "gaussian") -> Tuple[Tensor, Tensor]:
    return ops.soft_nms(boxes, scores, None, iou_threshold, sigma, score_threshold, method)


def batched_soft_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.3, sigma: float = 0.5,
                     score_threshold: float = 0.001, method: str = "gaussian") -> Tuple[Tensor, Tensor]:
    return ops.soft_nms(boxes, scores, idxs, iou_threshold, sigma, score_threshold, method)


def multiclass_nms(boxes: Tensor, scores: Tensor, score_threshold: float = 0.05, iou_threshold: float = 0.5,
                   max_output_per_class: int = 100, max_total: int = 100,
                   class_agnostic: bool = False) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    return ops.multiclass_nms(boxes, scores, score_threshold, iou_threshold, max_output_per_class, max_total,
                              class_agnostic)


def _pair(output_size: List[int]) -> Tuple[int, int]:
    if len(output_size) == 1:
        return output_size[0], output_size[0]
    if len(output_size) != 2:
        raise ValueError("output_size must be an int or (height, width)")
    return output_size[0], output_size[1]


def _rois(boxes: Union[Tensor, List[Tensor]], input: Tensor) -> Tensor:
    if isinstance(boxes, Tensor):
        return boxes
    parts: List[Tensor] = []
    for i, b in enumerate(boxes):
        if b.dim() != 2 or b.size(1) != 4:
            raise ValueError("boxes[i] must have shape (L, 4)")
        parts.append(torch.cat([torch.full_like(b[:, :1], i), b], dim=1))
    if len(parts) == 0:
        return input.new_zeros((0, 5))
    return torch.cat(parts, dim=0)


def roi_align(input: Tensor, boxes: Union[Tensor, List[Tensor]], output_size: BroadcastingList2[int],
              spatial_scale: float = 1.0, sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    ph, pw = _pair(output_size)
    return ops.roi_align(input, _rois(boxes, input), spatial_scale, ph, pw, sampling_ratio, aligned)


def roi_pool(input: Tensor, boxes: Union[Tensor, List[Tensor]], output_size: BroadcastingList2[int],
             spatial_scale: float = 1.0) -> Tensor:
    ph, pw = _pair(output_size)
    return ops.roi_pool(input, _rois(boxes, input), spatial_scale, ph, pw)[0]


def dilated_conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None,
                   stride: BroadcastingList2[int] = 1,
                   padding: BroadcastingList2[int] = 0,
                   dilation: BroadcastingList2[int] = 1, groups: int = 1) -> Tensor:
    st = _pair(stride)
    pd = _pair(padding)
    dl = _pair(dilation)
    return ops.dilated_conv2d(input, weight, bias, [st[0], st[1]], [pd[0], pd[1], pd[0], pd[1]], [dl[0], dl[1]],
                              groups)


def pairwise_mask_iou(masks1: Tensor, masks2: Tensor) -> Tensor:
    return ops.pairwise_masks(masks1, masks2, False)


def pairwise_mask_dice(masks1: Tensor, masks2: Tensor) -> Tensor:
    return ops.pairwise_masks(masks1, masks2, True)


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> Tensor:
    with_grad = inputs.requires_grad and torch.is_grad_enabled()
    return ops.sigmoid_focal_loss(inputs, targets, alpha, gamma, reduction, with_grad)[0]


def softmax_focal_loss(input: Tensor, target: Tensor, gamma: float = 2.0, weight: Optional[Tensor] = None,
                       ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    device = input.device
    if input.is_cuda:  # no CUDA kernel yet: the CPU's (.cpu() is differentiable)
        input, target = input.cpu(), target.cpu()
        weight = weight.cpu() if weight is not None else None
    with_grad = input.requires_grad and torch.is_grad_enabled()
    return ops.softmax_focal_loss(input, target, weight, gamma, ignore_index, reduction, with_grad)[0].to(device)


Weights = Tuple[float, float, float, float]


def decode_boxes(rel_codes: Tensor, boxes: Tensor, weights: Weights = (1.0, 1.0, 1.0, 1.0),
                 bbox_xform_clip: float = 4.135166556742356) -> Tensor:
    w = [weights[0], weights[1], weights[2], weights[3]]
    if rel_codes.dim() == 2 and rel_codes.shape[1] > 4 and rel_codes.shape[1] % 4 == 0:
        k = rel_codes.shape[1] // 4
        out = ops.decode_boxes(rel_codes.reshape(-1, 4), boxes.repeat_interleave(k, 0), w, bbox_xform_clip)
        return out.reshape(rel_codes.shape[0], rel_codes.shape[1])
    return ops.decode_boxes(rel_codes, boxes, w, bbox_xform_clip)


def encode_boxes(reference_boxes: Tensor, proposals: Tensor, weights: Weights = (1.0, 1.0, 1.0, 1.0)) -> Tensor:
    return ops.encode_boxes(reference_boxes, proposals, [weights[0], weights[1], weights[2], weights[3]])


def decode_topk(logits: Tensor, box_regression: Tensor, anchors: Tensor, score_thresh: float = 0.05, topk: int = 1000,
                weights: Weights = (1.0, 1.0, 1.0, 1.0), bbox_xform_clip: float = 4.135166556742356,
                image_size: Optional[Tuple[float, float]] = None) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    size: Optional[List[float]] = None
    if image_size is not None:
        size = [image_size[0], image_size[1]]
    return ops.decode_topk(logits, box_regression, anchors, score_thresh, topk,
                           [weights[0], weights[1], weights[2], weights[3]], bbox_xform_clip, size)


def decode_yolo(pred: Tensor, anchors: Tensor, stride: float, conf_thres: float = 0.25, topk: int = 30000,
                version: str = "v5") -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    if pred.is_cuda:  # no CUDA kernel yet: the CPU's, results moved back
        boxes, scores, labels, index = ops.decode_yolo(pred.cpu(), anchors.cpu(), stride, conf_thres, topk, version)
        return boxes.to(pred.device), scores.to(pred.device), labels.to(pred.device), index.to(pred.device)
    return ops.decode_yolo(pred, anchors, stride, conf_thres, topk, version)


def box_iou_rotated(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    return ops.box_iou_rotated(boxes1, boxes2)


def nms_rotated(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    if boxes.is_cuda:
        return ops.nms_rotated(boxes.cpu(), scores.cpu(), None, iou_threshold).to(boxes.device)
    return ops.nms_rotated(boxes, scores, None, iou_threshold)


def batched_nms_rotated(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    if boxes.is_cuda:
        return ops.nms_rotated(boxes.cpu(), scores.cpu(), idxs.cpu(), iou_threshold).to(boxes.device)
    return ops.nms_rotated(boxes, scores, idxs, iou_threshold)


def heatmap_peaks(heat: Tensor, wh: Tensor, reg: Optional[Tensor] = None, K: int = 100,
                  kernel: int = 3) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    if heat.is_cuda:  # no CUDA kernel yet: the CPU's, results moved back
        r = reg.cpu() if reg is not None else None
        boxes, scores, classes, inds = ops.heatmap_peaks(heat.cpu(), wh.cpu(), r, K, kernel)
        return boxes.to(heat.device), scores.to(heat.device), classes.to(heat.device), inds.to(heat.device)
    return ops.heatmap_peaks(heat, wh, reg, K, kernel)


SCRIPTED = ("box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou", "generalized_box_iou_loss",
            "distance_box_iou_loss", "complete_box_iou_loss", "box_area", "box_convert", "nms", "batched_nms",
            "soft_nms", "batched_soft_nms", "multiclass_nms", "roi_align", "roi_pool", "dilated_conv2d",
            "pairwise_mask_iou", "pairwise_mask_dice", "sigmoid_focal_loss",
            "heatmap_peaks", "softmax_focal_loss", "decode_boxes", "encode_boxes", "decode_topk", "decode_yolo",
            "box_iou_rotated", "nms_rotated", "batched_nms_rotated")


FAILED: List[str] = []  # twins TorchScript could not compile (tests require none)


def attach() -> None:
    """Compile the TorchScript versions (about 25 ms) and enter each as the compiled form of
    its public function in torch.jit's function cache, which torch.jit.script consults first.
    Where TorchScript is unavailable the public functions stay unscriptable."""
    import warnings

    import cvkernels

    try:
        from torch.jit._state import _set_jit_function_cache
    except ImportError:  # a torch whose TorchScript internals moved
        return
    here = globals()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.script's deprecation notice
        for name in SCRIPTED:
            try:
                _set_jit_function_cache(getattr(cvkernels, name), torch.jit.script(here[name]))
            except Exception as e:  # noqa: BLE001  (recorded; the eager op is unaffected)
                FAILED.append(f"{name}: {type(e).__name__}: {str(e)[:200]}")
