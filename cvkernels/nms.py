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

from . import _frontend as fe
from ._launch import nms as launch
from ._launch.arrays import NUMPY
from ._launch.checks import integer, number

__all__ = ["nms", "batched_nms", "soft_nms", "batched_soft_nms", "multiclass_nms"]


@fe.public
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
    thr = number("iou_threshold", iou_threshold)
    t = fe.tensors(boxes, scores)
    if t:
        return fe.ops().nms(*t, thr)
    return launch.nms(NUMPY, fe.array("boxes", boxes), fe.array("scores", scores), thr)


@fe.public
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
    # empty boxes with None for the rest: nothing to keep (torchvision's ops.batched_nms(empty,
    # None, None, None)); anything else needs every argument
    t = fe.tensors(boxes, scores, idxs)
    if t and t[0].numel() == 0 and (scores is None or idxs is None):
        return t[0].new_empty((0,), dtype=fe.torch_module().int64)
    b = None if t else fe.array("boxes", boxes)
    if b is not None and b.size == 0 and (scores is None or idxs is None):
        return np.empty(0, np.int64)
    thr = number("iou_threshold", iou_threshold)
    if t:
        return fe.ops().batched_nms(*t, thr)
    return launch.nms(NUMPY, b, fe.array("scores", scores), thr, fe.array("idxs", idxs))


def _soft(boxes, scores, idxs, iou_threshold, sigma, score_threshold, method):
    thr = number("iou_threshold", iou_threshold)
    sig = number("sigma", sigma, positive=True)
    sthr = number("score_threshold", score_threshold)
    m = launch.method(method)
    t = fe.tensors(boxes, scores, idxs)
    if t:
        return fe.ops().soft_nms(*t, thr, sig, sthr, method)
    s = fe.array("scores", scores)
    i = None if idxs is None else fe.array("idxs", idxs)
    keep, new_scores = launch.soft_nms(NUMPY, fe.array("boxes", boxes), s, i, thr, sig, sthr, m)
    return keep, new_scores.astype(s.dtype if s.dtype.kind == "f" else new_scores.dtype, copy=False)


@fe.public
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


@fe.public
def batched_soft_nms(boxes, scores, idxs, iou_threshold: float = 0.3, sigma: float = 0.5,
                     score_threshold: float = 0.001, method: str = "gaussian"):
    """Soft-NMS within each category of ``idxs`` (integer (N,)); selections of all categories
    merged in decreasing decayed score (ties: lower index). Same arguments and result as
    :func:`soft_nms`."""
    return _soft(boxes, scores, idxs, iou_threshold, sigma, score_threshold, method)


@fe.public
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
        >>> n.tolist(), c.tolist()  # box 1 suppressed in class 0, box 0 in class 1
        ([2], [[0, 1, -1]])
    """
    sthr = number("score_threshold", score_threshold)
    thr = number("iou_threshold", iou_threshold)
    per = integer("max_output_per_class", max_output_per_class, minimum=0)
    total = integer("max_total", max_total, minimum=0)
    agnostic = bool(class_agnostic)
    t = fe.tensors(boxes, scores)
    if t:
        return fe.ops().multiclass_nms(*t, sthr, thr, per, total, agnostic)
    return launch.multiclass_nms(NUMPY, fe.array("boxes", boxes), fe.array("scores", scores), sthr, thr, per, total,
                                 agnostic)
