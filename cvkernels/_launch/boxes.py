"""Launchers of the box ops (csrc/boxes/): the IoU family as (N, M) / (B, N, M) matrices, the
paired losses, box_area and box_convert. Output specs (`*_spec`) serve the launchers and the
torch fake kernels alike."""

from __future__ import annotations

import numpy as np

from .. import _C
from .checks import choice, last_dim

KINDS = _C.BOX_KINDS  # {"iou": 0, "giou": 1, "diou": 2, "ciou": 3}, from C++
FORMATS = _C.BOX_FORMATS  # {"xyxy": 0, "xywh": 1, "cxcywh": 2}


def box_format(name: str, fmt) -> int:
    return choice(name, fmt, FORMATS)


def pairwise_spec(shape1, shape2):
    """Output shape: (N,4) x (M,4) -> (N,M), (B,N,4) x (B,M,4) -> (B,N,M)."""
    shape1, shape2 = tuple(shape1), tuple(shape2)
    last_dim("boxes1", shape1, (2, 3))
    last_dim("boxes2", shape2, (2, 3))
    if len(shape1) != len(shape2):
        raise ValueError(
            f"boxes1 and boxes2 must both be (N, 4) and (M, 4) or both (B, N, 4) and (B, M, 4), "
            f"got {shape1} and {shape2}"
        )
    if len(shape1) == 3 and shape1[0] != shape2[0]:
        raise ValueError(f"boxes1 and boxes2 must have the same batch size B, got {shape1[0]} and {shape2[0]}")
    return shape1[:-1] + shape2[-2:-1]


def loss_spec(shape1, shape2):
    """Broadcast shape (..., 4) of the paired box arguments of the losses."""
    shape1, shape2 = tuple(shape1), tuple(shape2)
    last_dim("boxes1", shape1)
    last_dim("boxes2", shape2)
    n = max(len(shape1), len(shape2))
    p1 = (1,) * (n - len(shape1)) + shape1
    p2 = (1,) * (n - len(shape2)) + shape2
    out = []
    for d1, d2 in zip(p1, p2):
        if d1 != d2 and 1 not in (d1, d2):
            raise ValueError(f"boxes1 {shape1} and boxes2 {shape2} cannot be broadcast together")
        out.append(d2 if d1 == 1 else d1)
    return tuple(out)


def pair_dtype(xp, boxes1, boxes2):
    """The dtype a pair of box arrays is computed in."""
    return xp.promote(xp.compute_dtype("boxes1", boxes1.dtype), xp.compute_dtype("boxes2", boxes2.dtype))


def pairwise(xp, kind: int, boxes1, boxes2, eps: float):
    """The (N, M) or (B, N, M) matrix of metric `kind`, in the compute dtype."""
    xp.same_device(boxes1=boxes1, boxes2=boxes2)
    shape = pairwise_spec(boxes1.shape, boxes2.shape)
    ct = pair_dtype(xp, boxes1, boxes2)
    a, b = xp.contiguous(boxes1, ct), xp.contiguous(boxes2, ct)
    out = xp.empty(shape, ct, a)
    xp.kernels(a).box_pairwise(kind, xp.view(a), xp.view(b), xp.view(out), eps, xp.stream(a))
    return out


def pairwise_backward(xp, kind: int, grad, boxes1, boxes2, eps: float):
    """Gradients of sum(grad * pairwise(boxes1, boxes2)) for both box sets, in the compute dtype."""
    shape = pairwise_spec(boxes1.shape, boxes2.shape)
    ct = pair_dtype(xp, boxes1, boxes2)
    a, b = xp.contiguous(boxes1, ct), xp.contiguous(boxes2, ct)
    g = xp.contiguous(xp.broadcast_to(grad, shape), ct)
    ga, gb = xp.empty(a.shape, ct, a), xp.empty(b.shape, ct, a)
    xp.kernels(a).box_pairwise_backward(
        kind, xp.view(a), xp.view(b), xp.view(g), xp.view(ga), xp.view(gb), eps, xp.stream(a)
    )
    return ga, gb


def loss(xp, kind: int, boxes1, boxes2, eps: float):
    """Per-pair 1 - metric over the broadcast shape (...), in the compute dtype."""
    xp.same_device(boxes1=boxes1, boxes2=boxes2)
    shape = loss_spec(boxes1.shape, boxes2.shape)
    ct = pair_dtype(xp, boxes1, boxes2)
    a = xp.contiguous(xp.broadcast_to(boxes1, shape), ct)
    b = xp.contiguous(xp.broadcast_to(boxes2, shape), ct)
    out = xp.empty(shape[:-1], ct, a)
    xp.kernels(a).box_loss(kind, xp.view(a), xp.view(b), xp.view(out), eps, xp.stream(a))
    return out


def loss_backward(xp, kind: int, grad, boxes1, boxes2, eps: float):
    """Gradients of sum(grad * loss) over the broadcast shape (not yet summed back)."""
    shape = loss_spec(boxes1.shape, boxes2.shape)
    ct = pair_dtype(xp, boxes1, boxes2)
    a = xp.contiguous(xp.broadcast_to(boxes1, shape), ct)
    b = xp.contiguous(xp.broadcast_to(boxes2, shape), ct)
    g = xp.contiguous(xp.broadcast_to(grad, shape[:-1]), ct)
    ga, gb = xp.empty(shape, ct, a), xp.empty(shape, ct, a)
    xp.kernels(a).box_loss_backward(kind, xp.view(a), xp.view(b), xp.view(g), xp.view(ga), xp.view(gb), eps,
                                    xp.stream(a))
    return ga, gb


def area(xp, boxes, fmt="xyxy"):
    """(x2 - x1) * (y2 - y1) of each box (..., 4) -> (...), or w * h for fmt "xywh" / "cxcywh",
    in the compute dtype; integer boxes in integers, upcast to int32 unless int32 / int64
    (torchvision's _upcast), wrapping on overflow as torch's integer arithmetic does."""
    last_dim("boxes", boxes.shape)
    if fmt != "xyxy" or xp.is_integer(boxes.dtype):
        if xp.is_integer(boxes.dtype):
            x = boxes if boxes.dtype in (xp.int32, xp.int64) else xp.contiguous(boxes, xp.int32)
        else:
            x = xp.contiguous(boxes, xp.compute_dtype("boxes", boxes.dtype))
        with np.errstate(over="ignore"):
            if fmt != "xyxy":
                return x[..., 2] * x[..., 3]
            return (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])
    ct = xp.compute_dtype("boxes", boxes.dtype)
    x = xp.contiguous(boxes, ct)
    out = xp.empty(x.shape[:-1], ct, x)
    xp.kernels(x).box_area(xp.view(x), xp.view(out), xp.stream(x))
    return out


def convert(xp, boxes, in_fmt: str, out_fmt: str):
    """Boxes (..., 4) from in_fmt to out_fmt, in the compute dtype."""
    f, t = box_format("in_fmt", in_fmt), box_format("out_fmt", out_fmt)
    last_dim("boxes", boxes.shape)
    ct = xp.compute_dtype("boxes", boxes.dtype)
    x = xp.contiguous(boxes, ct)
    out = xp.empty(x.shape, ct, x)
    xp.kernels(x).box_convert(xp.view(x), xp.view(out), f, t, xp.stream(x))
    return out


def rotated_spec(xp, boxes1, boxes2):
    """(N, M) and the compute dtype after checking (N, 5) and (M, 5) rotated boxes."""
    xp.same_device(boxes1=boxes1, boxes2=boxes2)
    for name, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if len(b.shape) != 2 or int(b.shape[1]) != 5:
            raise ValueError(f"{name} must have shape (N, 5) as (cx, cy, w, h, angle in degrees), got {tuple(b.shape)}")
    return (int(boxes1.shape[0]), int(boxes2.shape[0])), xp.compute_dtype("boxes1", xp.promote(boxes1.dtype,
                                                                                                boxes2.dtype))


def box_iou_rotated(xp, boxes1, boxes2):
    """(N, M) IoU of rotated boxes, in the compute dtype."""
    shape, cdt = rotated_spec(xp, boxes1, boxes2)
    a, b = xp.contiguous(xp.detach(boxes1), cdt), xp.contiguous(xp.detach(boxes2), cdt)
    out = xp.empty(shape, cdt, a)
    xp.kernels(a).box_iou_rotated(xp.view(a), xp.view(b), xp.view(out), xp.stream(a))
    return out


def nms_rotated(xp, boxes, scores, idxs, iou_threshold: float):
    """Kept indices (int64) of greedy NMS of rotated boxes (batched by idxs when given)."""
    xp.same_device(boxes=boxes, scores=scores, idxs=idxs)
    if len(boxes.shape) != 2 or int(boxes.shape[1]) != 5:
        raise ValueError(f"boxes must have shape (N, 5) as (cx, cy, w, h, angle in degrees), got {tuple(boxes.shape)}")
    n = int(boxes.shape[0])
    if tuple(scores.shape) != (n,):
        raise ValueError(f"scores must have shape (N,) = ({n},), got {tuple(scores.shape)}")
    if idxs is not None and tuple(idxs.shape) != (n,):
        raise ValueError(f"idxs must have shape (N,) = ({n},), got {tuple(idxs.shape)}")
    cdt = xp.compute_dtype("boxes", xp.promote(boxes.dtype, scores.dtype))
    b, s = xp.contiguous(xp.detach(boxes), cdt), xp.contiguous(xp.detach(scores), cdt)
    i = None if idxs is None else xp.contiguous(xp.detach(idxs), xp.int64)
    keep = xp.empty((n,), xp.int64, b)
    k = xp.kernels(b).nms_rotated(xp.view(b), xp.view(s), None if i is None else xp.view(i), float(iou_threshold),
                                  xp.view(keep), xp.stream(b))
    return xp.prefix(keep, k)
