"""Non-maximum suppression: nms, batched_nms, soft_nms, batched_soft_nms and the fixed-shape
multi-image multi-class multiclass_nms. torch tensors go through torch.ops.cvkernels.*; numpy
arrays stay numpy.

Semantics (DESIGN.md): boxes are (x1, y1, x2, y2); a box is suppressed when its IoU with a
kept, higher-ranked box is > iou_threshold (strict); rank is decreasing score, ties broken by
the lower index (so results are deterministic and CPU and CUDA agree); a NaN score ranks
lowest (as -inf); a box with a NaN coordinate overlaps nothing, so it is never suppressed and
suppresses nothing. Two empty boxes have IoU 0, not NaN.
"""

from __future__ import annotations

import numpy as np

from . import _C
from ._core import as_numpy, code_of, np_float_dtype, sync_threads, torch_module, use_torch
from ._nms_rules import check_count, check_float, check_method, check_nms_shapes, multiclass_dims

__all__ = ["nms", "batched_nms", "soft_nms", "batched_soft_nms", "multiclass_nms"]


def _np_boxes_scores(boxes, scores):
    b = as_numpy("boxes", boxes)
    s = as_numpy("scores", scores)
    dt = np.result_type(np_float_dtype("boxes", b.dtype), np_float_dtype("scores", s.dtype))
    return b, s, dt


def _np_idxs(idxs, n):
    i = as_numpy("idxs", idxs)
    if i.dtype.kind not in "iub":
        raise TypeError(f"idxs must be an integer array, got dtype {i.dtype}")
    if i.shape != (n,):
        raise ValueError(f"idxs must have shape ({n},), got {i.shape}")
    return np.ascontiguousarray(i, dtype=np.int64)


def _to_torch(ref, *xs):
    torch = torch_module()
    return tuple(x if x is None or isinstance(x, torch.Tensor) else torch.as_tensor(x, device=ref.device) for x in xs)


def _first_tensor(*xs):
    torch = torch_module()
    return next(x for x in xs if isinstance(x, torch.Tensor))


def nms(boxes, scores, iou_threshold: float):
    """Greedy non-maximum suppression, as ``torchvision.ops.nms``.

    Args:
        boxes: Tensor or ndarray (N, 4), (x1, y1, x2, y2).
        scores: (N,) scores.
        iou_threshold: suppress boxes whose IoU with a kept box is > this.

    Returns:
        int64 (K,) indices of the kept boxes in decreasing score order (ties: lower index
        first). Same kept indices as torchvision whenever the scores are distinct.

    Raises:
        ValueError: shapes are not (N, 4) and (N,), or the threshold is NaN.
        TypeError: a dtype is not float or integer.

    Example:
        >>> import numpy as np, cvkernels
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
        >>> cvkernels.nms(boxes, np.array([0.9, 0.8, 0.7], np.float32), 0.5)
        array([0, 2])
    """
    thr = check_float("iou_threshold", iou_threshold)
    if use_torch(boxes, scores):
        ref = _first_tensor(boxes, scores)
        boxes, scores = _to_torch(ref, boxes, scores)
        return torch_module().ops.cvkernels.nms(boxes, scores, thr)
    b, s, dt = _np_boxes_scores(boxes, scores)
    n = check_nms_shapes(b.shape, s.shape)
    b = np.ascontiguousarray(b, dtype=dt)
    s = np.ascontiguousarray(s, dtype=dt)
    keep = np.empty(n, dtype=np.int64)
    sync_threads()
    k = _C.nms(code_of(dt), b.ctypes.data, s.ctypes.data, n, thr, keep.ctypes.data)
    return keep[:k].copy()


def batched_nms(boxes, scores, idxs, iou_threshold: float):
    """NMS within each category, as ``torchvision.ops.batched_nms``: boxes of different
    categories (``idxs``) never suppress each other. Exact for any coordinates (negative,
    huge, float16) and any number of categories: no coordinate-offset trick.

    Args:
        boxes: (N, 4). scores: (N,). idxs: integer (N,) category of each box.
        iou_threshold: suppress when IoU > this.

    Returns:
        int64 (K,) kept indices in decreasing score order (ties: lower index first).

    Example:
        >>> import numpy as np, cvkernels
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float32)
        >>> cvkernels.batched_nms(boxes, np.array([0.9, 0.8]), np.array([0, 1]), 0.5)
        array([0, 1])
    """
    thr = check_float("iou_threshold", iou_threshold)
    if use_torch(boxes, scores, idxs):
        ref = _first_tensor(boxes, scores, idxs)
        boxes, scores, idxs = _to_torch(ref, boxes, scores, idxs)
        return torch_module().ops.cvkernels.batched_nms(boxes, scores, idxs, thr)
    b, s, dt = _np_boxes_scores(boxes, scores)
    n = check_nms_shapes(b.shape, s.shape)
    i = _np_idxs(idxs, n)
    b = np.ascontiguousarray(b, dtype=dt)
    s = np.ascontiguousarray(s, dtype=dt)
    keep = np.empty(n, dtype=np.int64)
    sync_threads()
    k = _C.batched_nms(code_of(dt), b.ctypes.data, s.ctypes.data, i.ctypes.data, n, thr, keep.ctypes.data)
    return keep[:k].copy()


def _soft(boxes, scores, idxs, iou_threshold, sigma, score_threshold, method):
    thr = check_float("iou_threshold", iou_threshold)
    sig = check_float("sigma", sigma, positive=True)
    sthr = check_float("score_threshold", score_threshold)
    m = check_method(method)
    if use_torch(boxes, scores, idxs):
        ref = _first_tensor(boxes, scores, idxs)
        boxes, scores, idxs = _to_torch(ref, boxes, scores, idxs)
        return torch_module().ops.cvkernels.soft_nms(boxes, scores, idxs, thr, sig, sthr, method)
    b, s, dt = _np_boxes_scores(boxes, scores)
    out_dt = s.dtype if s.dtype.kind == "f" else dt
    n = check_nms_shapes(b.shape, s.shape)
    i = None if idxs is None else _np_idxs(idxs, n)
    b = np.ascontiguousarray(b, dtype=dt)
    s = np.ascontiguousarray(s, dtype=dt)
    keep = np.empty(n, dtype=np.int64)
    new_scores = np.empty(n, dtype=dt)
    sync_threads()
    k = _C.soft_nms(code_of(dt), b.ctypes.data, s.ctypes.data, 0 if i is None else i.ctypes.data, n, thr, sig, sthr,
                    m, keep.ctypes.data, new_scores.ctypes.data)
    return keep[:k].copy(), new_scores[:k].astype(out_dt)


def soft_nms(boxes, scores, iou_threshold: float = 0.3, sigma: float = 0.5, score_threshold: float = 0.001,
             method: str = "gaussian"):
    """Soft-NMS (Bodla et al., "Improving Object Detection With One Line of Code", 2017).

    Repeatedly selects the box with the highest current score (ties: lower index), then decays
    the score of every remaining box that overlaps it: ``exp(-iou^2 / sigma)`` for
    ``method="gaussian"`` (any overlap), or ``1 - iou`` when ``iou > iou_threshold`` for
    ``method="linear"``. Boxes whose score is (or falls) below ``score_threshold`` are dropped;
    a NaN score never passes. IoU is continuous (no +1 pixel convention).

    Args:
        boxes: (N, 4). scores: (N,).
        iou_threshold: used by the linear method. sigma: > 0, gaussian width.
        score_threshold: minimum score kept. method: "gaussian" or "linear".

    Returns:
        (keep, new_scores): int64 (K,) indices in selection order, which is decreasing decayed
        score, and their decayed scores (the scores' dtype; float16 computed in float32).

    Example:
        >>> import numpy as np, cvkernels
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float64)
        >>> keep, s = cvkernels.soft_nms(boxes, np.array([0.9, 0.8]))
        >>> keep.tolist(), bool(s[1] < 0.8)
        ([0, 1], True)
    """
    return _soft(boxes, scores, None, iou_threshold, sigma, score_threshold, method)


def batched_soft_nms(boxes, scores, idxs, iou_threshold: float = 0.3, sigma: float = 0.5,
                     score_threshold: float = 0.001, method: str = "gaussian"):
    """Soft-NMS within each category of ``idxs`` (integer (N,)); selections of all categories
    merged in decreasing decayed score (ties: lower index). Same arguments and result as
    :func:`soft_nms`."""
    return _soft(boxes, scores, idxs, iou_threshold, sigma, score_threshold, method)


def multiclass_nms(boxes, scores, score_threshold: float = 0.05, iou_threshold: float = 0.5,
                   max_output_per_class: int = 100, max_total: int = 100, class_agnostic: bool = False):
    """Fixed-shape NMS over a batch of images and classes, for export and batched inference.

    For each image: the candidates are the (box, class) pairs with score > score_threshold
    (strict; NaN never passes). Class-aware (default): NMS within each class, keeping at most
    max_output_per_class per class. Class-agnostic: NMS over all candidates together. Then the
    max_total best by score (ties: lower box index, then lower class) are returned.

    Args:
        boxes: (B, N, 4), one box per anchor, or (B, N, C, 4), one box per anchor and class.
        scores: (B, N, C).
        score_threshold, iou_threshold: floats. max_output_per_class, max_total: ints >= 0.
        class_agnostic: run NMS across classes.

    Returns:
        num_detections int64 (B,), boxes (B, max_total, 4), scores (B, max_total), classes
        int64 (B, max_total); rows past num_detections are padded with 0 (classes with -1).

    Example:
        >>> import numpy as np, cvkernels
        >>> boxes = np.array([[[0, 0, 10, 10], [1, 1, 10, 10]]], np.float32)
        >>> scores = np.array([[[0.9, 0.1], [0.8, 0.7]]], np.float32)
        >>> n, b, s, c = cvkernels.multiclass_nms(boxes, scores, 0.05, 0.5, 10, 3)
        >>> n.tolist(), c.tolist()
        ([3], [[0, 1, 1]])
    """
    sthr = check_float("score_threshold", score_threshold)
    thr = check_float("iou_threshold", iou_threshold)
    per = check_count("max_output_per_class", max_output_per_class)
    total = check_count("max_total", max_total)
    agnostic = bool(class_agnostic)
    if use_torch(boxes, scores):
        ref = _first_tensor(boxes, scores)
        boxes, scores = _to_torch(ref, boxes, scores)
        return torch_module().ops.cvkernels.multiclass_nms(boxes, scores, sthr, thr, per, total, agnostic)
    b, s, dt = _np_boxes_scores(boxes, scores)
    B, N, C, per_class = multiclass_dims(b.shape, s.shape)
    b = np.ascontiguousarray(b, dtype=dt)
    s = np.ascontiguousarray(s, dtype=dt)
    num = np.empty(B, dtype=np.int64)
    ob = np.empty((B, total, 4), dtype=dt)
    os_ = np.empty((B, total), dtype=dt)
    oc = np.empty((B, total), dtype=np.int64)
    sync_threads()
    _C.multiclass_nms(code_of(dt), b.ctypes.data, s.ctypes.data, B, N, C, per_class, sthr, thr, per, total, agnostic,
                      num.ctypes.data, ob.ctypes.data, os_.ctypes.data, oc.ctypes.data)
    return num, ob, os_, oc
