"""Launchers of the NMS family (csrc/nms/): nms, batched_nms, soft_nms (plain and per class)
and the fixed-shape multiclass_nms. On the CPU each is one call of cvkernels._C; CUDA tensors
go through the GPU orchestration in nms_cuda.py."""

from __future__ import annotations

from .. import _C
from .checks import choice, last_dim

METHODS = _C.SOFT_NMS_METHODS  # {"gaussian": 0, "linear": 1}, from C++


def method(value) -> int:
    return choice("method", value, METHODS)


def check_shapes(boxes_shape, scores_shape, idxs_shape=None) -> int:
    """N after checking boxes (N, 4), scores (N,) and idxs (N,)."""
    last_dim("boxes", boxes_shape, (2,))
    n = boxes_shape[0]
    if tuple(scores_shape) != (n,):
        raise ValueError(f"scores must have shape ({n},) to match boxes {tuple(boxes_shape)}, got {tuple(scores_shape)}")
    if idxs_shape is not None and tuple(idxs_shape) != (n,):
        raise ValueError(f"idxs must have shape ({n},) to match boxes {tuple(boxes_shape)}, got {tuple(idxs_shape)}")
    return n


def multiclass_spec(boxes_shape, scores_shape):
    """(B, N, C, boxes_per_class) for boxes (B, N, 4) or (B, N, C, 4) and scores (B, N, C)."""
    boxes_shape, scores_shape = tuple(boxes_shape), tuple(scores_shape)
    if len(scores_shape) != 3:
        raise ValueError(f"scores must have shape (B, N, C), got {scores_shape}")
    B, N, C = scores_shape
    if boxes_shape == (B, N, 4):
        return B, N, C, False
    if boxes_shape == (B, N, C, 4):
        return B, N, C, True
    raise ValueError(f"boxes must have shape ({B}, {N}, 4) or ({B}, {N}, {C}, 4) to match scores {scores_shape}, "
                     f"got {boxes_shape}")


def compute_dtype(xp, boxes, scores):
    return xp.promote(xp.compute_dtype("boxes", boxes.dtype), xp.compute_dtype("scores", scores.dtype))


def _prepare(xp, boxes, scores, idxs=None):
    """(n, boxes, scores, idxs) checked, in the compute dtype, contiguous; idxs as int64."""
    n = check_shapes(boxes.shape, scores.shape, None if idxs is None else idxs.shape)
    xp.same_device(boxes=boxes, scores=scores, idxs=idxs)
    if idxs is not None and not xp.is_integer(idxs.dtype):
        raise TypeError(f"idxs must be an integer array, got dtype {idxs.dtype}")
    ct = compute_dtype(xp, boxes, scores)
    i = None if idxs is None else xp.contiguous(idxs, xp.int64)
    return n, xp.contiguous(boxes, ct), xp.contiguous(scores, ct), i


def nms(xp, boxes, scores, iou_threshold: float, idxs=None):
    """int64 (K,) kept indices, decreasing score (ties: lower index); within each idxs class
    when idxs is given."""
    n, b, s, i = _prepare(xp, boxes, scores, idxs)
    if n == 0:
        return xp.empty((0,), xp.int64, b)
    if xp.is_cuda(b):
        from . import nms_cuda

        return nms_cuda.greedy(xp, b, s, i, iou_threshold)
    keep = xp.empty((n,), xp.int64, b)
    k = xp.kernels(b)
    if i is None:
        count = k.nms(xp.view(b), xp.view(s), iou_threshold, xp.view(keep))
    else:
        count = k.batched_nms(xp.view(b), xp.view(s), xp.view(i), iou_threshold, xp.view(keep))
    return xp.prefix(keep, count)


def soft_nms(xp, boxes, scores, idxs, iou_threshold, sigma, score_threshold, method_code):
    """(keep int64 (K,), decayed scores (K,) in the compute dtype), in selection order."""
    n, b, s, i = _prepare(xp, boxes, scores, idxs)
    if n == 0:
        return xp.empty((0,), xp.int64, b), xp.empty((0,), b.dtype, b)
    if xp.is_cuda(b):
        from . import nms_cuda

        return nms_cuda.soft(xp, b, s, i, iou_threshold, sigma, score_threshold, method_code)
    keep = xp.empty((n,), xp.int64, b)
    new_scores = xp.empty((n,), b.dtype, b)
    count = xp.kernels(b).soft_nms(xp.view(b), xp.view(s), None if i is None else xp.view(i), iou_threshold, sigma,
                                   score_threshold, method_code, xp.view(keep), xp.view(new_scores))
    return xp.prefix(keep, count), xp.prefix(new_scores, count)


def multiclass_nms(xp, boxes, scores, score_threshold, iou_threshold, max_output_per_class, max_total,
                   class_agnostic):
    """(num_detections (B,), boxes (B, K, 4), scores (B, K), classes (B, K)) with K = max_total."""
    xp.same_device(boxes=boxes, scores=scores)
    if max_output_per_class < 0 or max_total < 0:
        raise ValueError("max_output_per_class and max_total must be >= 0")
    B, N, C, per_class = multiclass_spec(boxes.shape, scores.shape)
    ct = compute_dtype(xp, boxes, scores)
    b, s = xp.contiguous(boxes, ct), xp.contiguous(scores, ct)
    if xp.is_cuda(b):
        from . import nms_cuda

        return nms_cuda.multiclass(xp, b, s, B, N, C, per_class, score_threshold, iou_threshold,
                                   max_output_per_class, max_total, class_agnostic)
    num = xp.empty((B,), xp.int64, b)
    ob = xp.empty((B, max_total, 4), ct, b)
    os_ = xp.empty((B, max_total), ct, b)
    oc = xp.empty((B, max_total), xp.int64, b)
    xp.kernels(b).multiclass_nms(xp.view(b), xp.view(s), score_threshold, iou_threshold, max_output_per_class,
                                 max_total, bool(class_agnostic), xp.view(num), xp.view(ob), xp.view(os_),
                                 xp.view(oc))
    return num, ob, os_, oc
