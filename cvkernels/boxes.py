"""Box ops: the IoU family (pairwise and batched), box_area, box_convert and the paired IoU
losses. Each takes torch tensors (any device the build supports) or numpy arrays and returns
the caller's type; torch tensors go through the registered operators torch.ops.cvkernels.*.

Semantics (shared with torchvision.ops, see DESIGN.md): boxes are (x1, y1, x2, y2); IoU of two
empty boxes is 0 (torchvision gives NaN), GIoU with an empty enclosing box equals IoU, the CIoU
aspect angle of a box with zero width and height is 0; a NaN coordinate gives NaN.
"""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import boxes as launch
from ._launch.arrays import NUMPY, torch_arrays
from ._launch.checks import number, reduction as check_reduction

__all__ = [
    "box_iou",
    "generalized_box_iou",
    "distance_box_iou",
    "complete_box_iou",
    "box_area",
    "box_convert",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
]


def _pairwise(op_name: str, kind: str, boxes1, boxes2, eps=None):
    t = fe.tensors(boxes1, boxes2)
    if t:
        op = getattr(fe.ops(), op_name)
        return op(*t) if eps is None else op(*t, eps)
    eps = 0.0 if eps is None else number("eps", eps, allow_nan=True)
    return launch.pairwise(NUMPY, launch.KINDS[kind], fe.array("boxes1", boxes1), fe.array("boxes2", boxes2), eps)


_PAIRWISE_DOC = """
    Args:
        boxes1: Tensor or ndarray (N, 4), or (B, N, 4) for a batch, as (x1, y1, x2, y2).
        boxes2: Tensor or ndarray (M, 4), or (B, M, 4).{eps}

    Returns:
        (N, M) or (B, N, M), the caller's type and device. float32/float64 in, same out;
        float16/bfloat16 are computed and returned in float32 (as torchvision does);
        integer boxes give float32 (torch) or float64 (numpy). Differentiable (torch).

    Raises:
        ValueError: a shape is not (N, 4)/(B, N, 4), or the batch sizes differ.
        TypeError: a dtype is neither float nor integer.
"""
_EPS_DOC = "\n        eps: added to the squared enclosing diagonal, as torchvision. Default 1e-7."


def _to_xyxy(fmt, *boxes):
    """The boxes in xyxy (torchvision 0.29's fmt= of box_iou / box_area: the axis-aligned
    formats; the rotated ones are not implemented)."""
    if fmt == "xyxy":
        return boxes
    if fmt in ("xywhr", "cxcywhr", "xyxyxyxy"):
        raise ValueError(f"fmt={fmt!r}: rotated boxes are not supported by cvkernels yet")
    launch.box_format("fmt", fmt)
    return tuple(box_convert(b, fmt, "xyxy") for b in boxes)


@fe.public
def box_iou(boxes1, boxes2, fmt: str = "xyxy"):
    """Pairwise intersection over union, ``inter / (area1 + area2 - inter)``.
    Same values as ``torchvision.ops.box_iou``, except that two empty boxes give 0, not NaN.
    ``fmt``: the boxes' format, "xyxy" (default), "xywh" or "cxcywh" (converted to xyxy first).
    """
    return _pairwise("box_iou", "iou", *_to_xyxy(fmt, boxes1, boxes2))


@fe.public
def generalized_box_iou(boxes1, boxes2):
    """Pairwise generalized IoU, ``iou - (area_c - union) / area_c`` with area_c the area of the
    smallest enclosing box (Rezatofighi et al., 2019); in [-1, 1]. As
    ``torchvision.ops.generalized_box_iou``; an empty enclosing box gives the IoU (0).
    """
    return _pairwise("generalized_box_iou", "giou", boxes1, boxes2)


@fe.public
def distance_box_iou(boxes1, boxes2, eps: float = 1e-7):
    """Pairwise distance IoU, ``iou - d^2 / (c^2 + eps)`` with d the distance of the centres and c
    the diagonal of the enclosing box (Zheng et al., 2020). As ``torchvision.ops.distance_box_iou``.
    """
    return _pairwise("distance_box_iou", "diou", boxes1, boxes2, eps)


@fe.public
def complete_box_iou(boxes1, boxes2, eps: float = 1e-7):
    """Pairwise complete IoU, ``diou - alpha * v`` with
    ``v = 4/pi^2 (atan(w1/h1) - atan(w2/h2))^2`` and ``alpha = v / (1 - iou + v + eps)``
    (Zheng et al., 2021). As ``torchvision.ops.complete_box_iou``.
    """
    return _pairwise("complete_box_iou", "ciou", boxes1, boxes2, eps)


box_iou.__doc__ += _PAIRWISE_DOC.format(eps="") + """
    Example:
        >>> import numpy as np, cvkernels
        >>> a = np.array([[0., 0., 2., 2.]], dtype=np.float32)
        >>> b = np.array([[1., 1., 3., 3.], [4., 4., 5., 5.]], dtype=np.float32)
        >>> cvkernels.box_iou(a, b)
        array([[0.14285715, 0.        ]], dtype=float32)
"""
generalized_box_iou.__doc__ += _PAIRWISE_DOC.format(eps="")
distance_box_iou.__doc__ += _PAIRWISE_DOC.format(eps=_EPS_DOC)
complete_box_iou.__doc__ += _PAIRWISE_DOC.format(eps=_EPS_DOC)


@fe.public
def box_area(boxes, fmt: str = "xyxy"):
    """Area ``(x2 - x1) * (y2 - y1)`` of each box, or ``w * h`` for ``fmt`` "xywh" / "cxcywh"
    (as torchvision 0.29).

    Args:
        boxes: Tensor or ndarray (..., 4) as (x1, y1, x2, y2), or in ``fmt``.

    Returns:
        (...,) the caller's type. float32/float64 keep their dtype, float16/bfloat16 give
        float32; int32/int64 keep theirs and smaller integers give int32 (as torchvision).

    Example:
        >>> import numpy as np, cvkernels
        >>> cvkernels.box_area(np.array([[0., 0., 2., 3.]]))
        array([6.])
    """
    launch.box_format("fmt", fmt)
    t = fe.tensors(boxes)
    if t:
        return fe.ops().box_area(*t) if fmt == "xyxy" else launch.area(torch_arrays(), t[0], fmt)
    return launch.area(NUMPY, fe.array("boxes", boxes), fmt)


@fe.public
def box_convert(boxes, in_fmt: str, out_fmt: str):
    """Convert boxes between ``"xyxy"`` (corners), ``"xywh"`` (corner, size) and ``"cxcywh"``
    (centre, size), with torchvision.ops.box_convert's formulas (non-xyxy to non-xyxy goes
    through xyxy); and between torchvision 0.29's rotated formats ``"xywhr"``, ``"cxcywhr"``
    ((..., 5), angle r in degrees counter-clockwise) and ``"xyxyxyxy"`` (the four corners,
    (..., 8)), with its formulas (integer boxes rounded back at each step, as torchvision).

    Args:
        boxes: Tensor or ndarray (..., 4).
        in_fmt, out_fmt: "xyxy", "xywh" or "cxcywh".

    Returns:
        (..., 4), same type and dtype (float16/bfloat16 computed in float32; integer boxes
        are computed in float64 and returned as float64).

    Example:
        >>> import numpy as np, cvkernels
        >>> cvkernels.box_convert(np.array([[1., 2., 4., 6.]]), "xyxy", "cxcywh")
        array([[2.5, 4. , 3. , 4. ]])
    """
    t = fe.tensors(boxes)
    if in_fmt in _ROTATED or out_fmt in _ROTATED:
        if t:
            from ._torch.script import rotated_convert

            return rotated_convert(t[0], in_fmt, out_fmt)
        return _rotated_numpy(fe.array("boxes", boxes), in_fmt, out_fmt)
    if t:
        return fe.ops().box_convert(*t, in_fmt, out_fmt)
    x = fe.array("boxes", boxes)
    out = launch.convert(NUMPY, x, in_fmt, out_fmt)
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


_ROTATED = ("xywhr", "cxcywhr", "xyxyxyxy")


def _rotated_numpy(b, in_fmt, out_fmt):
    """torchvision 0.29's rotated conversions (see cvkernels/_torch/script.py) on numpy arrays:
    the same formulas with numpy's sin / cos / arctan2."""
    if in_fmt not in _ROTATED or out_fmt not in _ROTATED:
        raise ValueError("box_convert: between a rotated and an axis-aligned format is not defined (as torchvision)")
    width = 8 if in_fmt == "xyxyxyxy" else 5
    if b.ndim < 1 or b.shape[-1] != width:
        raise ValueError(f"boxes in {in_fmt!r} need {width} numbers in the last dimension, got shape {b.shape}")
    if b.dtype.kind not in "fiu":
        raise TypeError(f"boxes must be a real array, got dtype {b.dtype}")
    if in_fmt == out_fmt:
        return b.copy()

    def back(out, like):
        return np.round(out).astype(like.dtype) if like.dtype.kind != "f" else out.astype(like.dtype, copy=False)

    def to_xywhr(x):
        if in_fmt == "cxcywhr":
            cx, cy, w, h, r = np.moveaxis(x, -1, 0)
            rad = r * np.pi / 180.0
            cos, sin = np.cos(rad), np.sin(rad)
            return back(np.stack((cx - w / 2 * cos - h / 2 * sin, cy - h / 2 * cos + w / 2 * sin, w, h, r), -1), x)
        if in_fmt == "xyxyxyxy":
            x1, y1, x2, y2, x3, y3, _, _ = np.moveaxis(x, -1, 0)
            r = np.arctan2(y1 - y2, x2 - x1) * 180 / np.pi
            w = np.sqrt((x2 - x1) ** 2 + (y1 - y2) ** 2)
            h = np.sqrt((x3 - x2) ** 2 + (y3 - y2) ** 2)
            return back(np.stack((x1, y1, w, h, r), -1), x)
        return x

    x = to_xywhr(b)
    x1, y1, w, h, r = np.moveaxis(x, -1, 0)
    rad = r * np.pi / 180.0
    cos, sin = np.cos(rad), np.sin(rad)
    if out_fmt == "cxcywhr":
        return back(np.stack((x1 + w / 2 * cos + h / 2 * sin, y1 - w / 2 * sin + h / 2 * cos, w, h, r), -1), x)
    if out_fmt == "xyxyxyxy":
        x2, y2 = x1 + w * cos, y1 - w * sin
        return back(np.stack((x1, y1, x2, y2, x2 + h * sin, y2 + h * cos, x1 + h * sin, y1 + h * cos), -1), x)
    return x


def _loss(op_name: str, kind: str, boxes1, boxes2, reduction, eps):
    reduction = check_reduction(reduction)
    eps = number("eps", eps, allow_nan=True)
    t = fe.tensors(boxes1, boxes2)
    if t:
        return getattr(fe.ops(), op_name)(*t, reduction, eps)
    out = launch.loss(NUMPY, launch.KINDS[kind], fe.array("boxes1", boxes1), fe.array("boxes2", boxes2), eps)
    if reduction == "mean":
        return out.mean() if out.size else out.dtype.type(0)
    if reduction == "sum":
        return out.sum()
    return out


_LOSS_DOC = """
    Args:
        boxes1: predicted boxes, Tensor or ndarray (..., 4) as (x1, y1, x2, y2).
        boxes2: target boxes, (..., 4), broadcastable against boxes1.
        reduction: "none" (shape (...)), "mean" or "sum" (a scalar; the mean of no boxes is 0).
        eps: the small number torchvision adds to the denominators. Default 1e-7.

    Returns:
        The loss in the inputs' float dtype (float16/bfloat16 and integers give float32, as
        torchvision on tensors; numpy integers give float64). Differentiable
        with respect to both box sets (torch).

    Example:
        >>> import numpy as np, cvkernels
        >>> p = np.array([[0., 0., 2., 2.]]); t = np.array([[1., 1., 3., 3.]])
        >>> float(cvkernels.{name}(p, t, reduction="sum")) > 0
        True
"""


@fe.public
def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Paired GIoU loss ``1 - giou(boxes1[i], boxes2[i])``, as
    ``torchvision.ops.generalized_box_iou_loss``.
    """
    return _loss("generalized_box_iou_loss", "giou", boxes1, boxes2, reduction, eps)


@fe.public
def distance_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Paired DIoU loss ``1 - iou + d^2 / c^2``, as ``torchvision.ops.distance_box_iou_loss``."""
    return _loss("distance_box_iou_loss", "diou", boxes1, boxes2, reduction, eps)


@fe.public
def complete_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Paired CIoU loss ``1 - iou + d^2 / c^2 + alpha * v``, as
    ``torchvision.ops.complete_box_iou_loss``.
    """
    return _loss("complete_box_iou_loss", "ciou", boxes1, boxes2, reduction, eps)


for _f in (generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss):
    _f.__doc__ += _LOSS_DOC.format(name=_f.__name__)
del _f


@fe.public
def box_iou_rotated(boxes1, boxes2):
    """Pairwise IoU of rotated boxes (cx, cy, w, h, angle in degrees, counter-clockwise:
    torchvision's "cxcywhr", detectron2's rotated boxes): (N, 5) x (M, 5) -> (N, M). The
    intersection polygon of each pair is exact (clipping, in double precision), so values match
    shapely's polygon areas to rounding. A box with zero width or height has IoU 0; a NaN or
    infinite number gives NaN. CPU and CUDA (one thread per pair; compiled, not yet run on a GPU).

    Example:
        >>> import numpy as np, cvkernels
        >>> a = np.array([[0.0, 0.0, 2.0, 2.0, 0.0]]); b = np.array([[0.0, 0.0, 2.0, 2.0, 45.0]])
        >>> round(float(cvkernels.box_iou_rotated(a, b)[0, 0]), 6)  # a square and its 45-degree turn
        0.707107
    """
    t = fe.tensors(boxes1, boxes2)
    if t:
        return fe.ops().box_iou_rotated(*t)
    a, b = fe.array("boxes1", boxes1), fe.array("boxes2", boxes2)
    out = launch.box_iou_rotated(NUMPY, a, b)
    return out if a.dtype.kind == "f" else out.astype(np.float32)


def _nms_rotated(boxes, scores, idxs, iou_threshold):
    t = fe.tensors(boxes, scores, idxs)
    if t:
        b, s, i = t
        if b.is_cuda:
            return fe.ops().nms_rotated(b.cpu(), s.cpu(), None if i is None else i.cpu(), float(iou_threshold)).to(
                b.device)
        return fe.ops().nms_rotated(b, s, i, float(iou_threshold))
    return launch.nms_rotated(NUMPY, fe.array("boxes", boxes), fe.array("scores", scores),
                              None if idxs is None else fe.array("idxs", idxs), float(iou_threshold))


@fe.public
def nms_rotated(boxes, scores, iou_threshold: float):
    """Greedy NMS of rotated boxes (cx, cy, w, h, degrees), as detectron2's nms_rotated: in
    descending score order (ties by index, NaN scores last) keep a box and drop the later ones
    whose rotated IoU with it exceeds iou_threshold. Returns the kept indices (int64), by
    descending score. CPU (CUDA tensors computed on the CPU, the result returned there).

    Example:
        >>> import numpy as np, cvkernels
        >>> b = np.array([[0, 0, 4, 2, 0], [0, 0, 4, 2, 10], [9, 9, 2, 2, 45]], np.float32)
        >>> cvkernels.nms_rotated(b, np.array([0.9, 0.8, 0.7], np.float32), 0.5).tolist()
        [0, 2]
    """
    return _nms_rotated(boxes, scores, None, iou_threshold)


@fe.public
def batched_nms_rotated(boxes, scores, idxs, iou_threshold: float):
    """nms_rotated within each category: boxes with different idxs never suppress each other
    (detectron2's batched_nms_rotated). Returns the kept indices by descending score."""
    return _nms_rotated(boxes, scores, idxs, iou_threshold)
