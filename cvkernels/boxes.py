"""Box ops: the IoU family (pairwise and batched), box_area, box_convert and the paired IoU
losses. Each takes torch tensors (any device the build supports) or numpy arrays and returns
the caller's type; torch tensors go through the registered operators torch.ops.cvkernels.*.

Semantics (shared with torchvision.ops, see DESIGN.md): boxes are (x1, y1, x2, y2); IoU of two
empty boxes is 0 (torchvision gives NaN), GIoU with an empty enclosing box equals IoU, the CIoU
aspect angle of a box with zero width and height is 0; a NaN coordinate gives NaN.
"""

from __future__ import annotations

import numpy as np

from . import _C
from ._box_rules import (
    CIOU,
    DIOU,
    GIOU,
    IOU,
    check_eps,
    check_format,
    check_reduction,
    loss_shape,
    pairwise_dims,
)
from ._core import as_numpy, check_last_dim, code_of, np_float_dtype, sync_threads, torch_module, use_torch

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


def _torch_pair(boxes1, boxes2):
    """Both arguments as tensors on the device of the one that is a tensor."""
    torch = torch_module()
    ref = boxes1 if isinstance(boxes1, torch.Tensor) else boxes2
    if not isinstance(boxes1, torch.Tensor):
        boxes1 = torch.as_tensor(boxes1, device=ref.device)
    if not isinstance(boxes2, torch.Tensor):
        boxes2 = torch.as_tensor(boxes2, device=ref.device)
    return boxes1, boxes2


def _np_inputs(boxes1, boxes2):
    a = as_numpy("boxes1", boxes1)
    b = as_numpy("boxes2", boxes2)
    dt = np.result_type(np_float_dtype("boxes1", a.dtype), np_float_dtype("boxes2", b.dtype))
    return a, b, dt


def _np_pairwise(kind: int, boxes1, boxes2, eps: float):
    a, b, dt = _np_inputs(boxes1, boxes2)
    B, N, M, out_shape = pairwise_dims(a.shape, b.shape)
    a = np.ascontiguousarray(a, dtype=dt)
    b = np.ascontiguousarray(b, dtype=dt)
    out = np.empty(out_shape, dtype=dt)
    sync_threads()
    _C.box_pairwise(kind, code_of(dt), a.ctypes.data, b.ctypes.data, out.ctypes.data, B, N, M, eps)
    return out


def _pairwise(op_name: str, kind: int, boxes1, boxes2, eps=None):
    if use_torch(boxes1, boxes2):
        boxes1, boxes2 = _torch_pair(boxes1, boxes2)
        op = getattr(torch_module().ops.cvkernels, op_name)
        return op(boxes1, boxes2) if eps is None else op(boxes1, boxes2, eps)
    return _np_pairwise(kind, boxes1, boxes2, 0.0 if eps is None else check_eps(eps))


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


def box_iou(boxes1, boxes2):
    """Pairwise intersection over union, ``inter / (area1 + area2 - inter)``.
    Same values as ``torchvision.ops.box_iou``, except that two empty boxes give 0, not NaN.
    """
    return _pairwise("box_iou", IOU, boxes1, boxes2)


def generalized_box_iou(boxes1, boxes2):
    """Pairwise generalized IoU, ``iou - (area_c - union) / area_c`` with area_c the area of the
    smallest enclosing box (Rezatofighi et al., 2019); in [-1, 1]. As
    ``torchvision.ops.generalized_box_iou``; an empty enclosing box gives the IoU (0).
    """
    return _pairwise("generalized_box_iou", GIOU, boxes1, boxes2)


def distance_box_iou(boxes1, boxes2, eps: float = 1e-7):
    """Pairwise distance IoU, ``iou - d^2 / (c^2 + eps)`` with d the distance of the centres and c
    the diagonal of the enclosing box (Zheng et al., 2020). As ``torchvision.ops.distance_box_iou``.
    """
    return _pairwise("distance_box_iou", DIOU, boxes1, boxes2, eps)


def complete_box_iou(boxes1, boxes2, eps: float = 1e-7):
    """Pairwise complete IoU, ``diou - alpha * v`` with
    ``v = 4/pi^2 (atan(w1/h1) - atan(w2/h2))^2`` and ``alpha = v / (1 - iou + v + eps)``
    (Zheng et al., 2021). As ``torchvision.ops.complete_box_iou``.
    """
    return _pairwise("complete_box_iou", CIOU, boxes1, boxes2, eps)


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


def box_area(boxes):
    """Area ``(x2 - x1) * (y2 - y1)`` of each box.

    Args:
        boxes: Tensor or ndarray (..., 4) as (x1, y1, x2, y2).

    Returns:
        (...,) the caller's type. float32/float64 keep their dtype, float16/bfloat16 give
        float32 (as torchvision), integers keep their integer dtype.

    Example:
        >>> import numpy as np, cvkernels
        >>> cvkernels.box_area(np.array([[0., 0., 2., 3.]]))
        array([6.])
    """
    if use_torch(boxes):
        return torch_module().ops.cvkernels.box_area(boxes)
    x = as_numpy("boxes", boxes)
    check_last_dim("boxes", x.shape)
    if x.dtype.kind in "iu":
        return (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])
    dt = np_float_dtype("boxes", x.dtype)
    x = np.ascontiguousarray(x, dtype=dt)
    out = np.empty(x.shape[:-1], dtype=dt)
    sync_threads()
    _C.box_area(code_of(dt), x.ctypes.data, out.ctypes.data, out.size)
    return out


def box_convert(boxes, in_fmt: str, out_fmt: str):
    """Convert boxes between ``"xyxy"`` (corners), ``"xywh"`` (corner, size) and ``"cxcywh"``
    (centre, size), with torchvision.ops.box_convert's formulas (non-xyxy to non-xyxy goes
    through xyxy).

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
    f, t = check_format("in_fmt", in_fmt), check_format("out_fmt", out_fmt)
    if use_torch(boxes):
        return torch_module().ops.cvkernels.box_convert(boxes, in_fmt, out_fmt)
    x = as_numpy("boxes", boxes)
    check_last_dim("boxes", x.shape)
    dt = np_float_dtype("boxes", x.dtype)
    out_dt = x.dtype if x.dtype.kind == "f" else dt
    x = np.ascontiguousarray(x, dtype=dt)
    out = np.empty(x.shape, dtype=dt)
    sync_threads()
    _C.box_convert(code_of(dt), x.ctypes.data, out.ctypes.data, out.size // 4, f, t)
    return out.astype(out_dt, copy=False)


def _np_loss(kind: int, boxes1, boxes2, reduction: str, eps: float):
    a, b, dt = _np_inputs(boxes1, boxes2)
    shape = loss_shape(a.shape, b.shape)
    a = np.ascontiguousarray(np.broadcast_to(a, shape), dtype=dt)
    b = np.ascontiguousarray(np.broadcast_to(b, shape), dtype=dt)
    out = np.empty(shape[:-1], dtype=dt)
    sync_threads()
    _C.box_loss(kind, code_of(dt), a.ctypes.data, b.ctypes.data, out.ctypes.data, out.size, eps)
    if reduction == "mean":
        return out.mean() if out.size else dt.type(0)
    if reduction == "sum":
        return out.sum()
    return out


def _loss(op_name: str, kind: int, boxes1, boxes2, reduction, eps):
    reduction = check_reduction(reduction)
    eps = check_eps(eps)
    if use_torch(boxes1, boxes2):
        boxes1, boxes2 = _torch_pair(boxes1, boxes2)
        return getattr(torch_module().ops.cvkernels, op_name)(boxes1, boxes2, reduction, eps)
    return _np_loss(kind, boxes1, boxes2, reduction, eps)


_LOSS_DOC = """
    Args:
        boxes1: predicted boxes, Tensor or ndarray (..., 4) as (x1, y1, x2, y2).
        boxes2: target boxes, (..., 4), broadcastable against boxes1.
        reduction: "none" (shape (...)), "mean" or "sum" (a scalar; the mean of no boxes is 0).
        eps: the small number torchvision adds to the denominators. Default 1e-7.

    Returns:
        The loss in the inputs' dtype (float16/bfloat16 computed in float32). Differentiable
        with respect to both box sets (torch).

    Example:
        >>> import numpy as np, cvkernels
        >>> p = np.array([[0., 0., 2., 2.]]); t = np.array([[1., 1., 3., 3.]])
        >>> float(cvkernels.{name}(p, t, reduction="sum")) > 0
        True
"""


def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Paired GIoU loss ``1 - giou(boxes1[i], boxes2[i])``, as
    ``torchvision.ops.generalized_box_iou_loss``.
    """
    return _loss("generalized_box_iou_loss", GIOU, boxes1, boxes2, reduction, eps)


def distance_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Paired DIoU loss ``1 - iou + d^2 / c^2``, as ``torchvision.ops.distance_box_iou_loss``."""
    return _loss("distance_box_iou_loss", DIOU, boxes1, boxes2, reduction, eps)


def complete_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Paired CIoU loss ``1 - iou + d^2 / c^2 + alpha * v``, as
    ``torchvision.ops.complete_box_iou_loss``.
    """
    return _loss("complete_box_iou_loss", CIOU, boxes1, boxes2, reduction, eps)


for _f in (generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss):
    _f.__doc__ += _LOSS_DOC.format(name=_f.__name__)
del _f
