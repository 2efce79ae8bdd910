"""Shape and dtype rules of the box ops, shared by the numpy path, the torch kernels and the
torch fake kernels so that all three agree."""

from __future__ import annotations

from ._core import check_last_dim

IOU, GIOU, DIOU, CIOU = 0, 1, 2, 3
FORMATS = {"xyxy": 0, "xywh": 1, "cxcywh": 2}
REDUCTIONS = ("none", "mean", "sum")


def pairwise_dims(shape1, shape2):
    """(B, N, M, out_shape) for (N,4) x (M,4) -> (N,M) or (B,N,4) x (B,M,4) -> (B,N,M)."""
    shape1, shape2 = tuple(shape1), tuple(shape2)
    check_last_dim("boxes1", shape1, (2, 3))
    check_last_dim("boxes2", shape2, (2, 3))
    if len(shape1) != len(shape2):
        raise ValueError(
            f"boxes1 and boxes2 must both be (N, 4) and (M, 4) or both (B, N, 4) and (B, M, 4), "
            f"got {shape1} and {shape2}"
        )
    if len(shape1) == 2:
        return 1, shape1[0], shape2[0], (shape1[0], shape2[0])
    if shape1[0] != shape2[0]:
        raise ValueError(f"boxes1 and boxes2 must have the same batch size B, got {shape1[0]} and {shape2[0]}")
    return shape1[0], shape1[1], shape2[1], (shape1[0], shape1[1], shape2[1])


def check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise TypeError(f"eps must be a float, got {type(eps).__name__}")
    return float(eps)


def check_reduction(reduction) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_format(name: str, fmt) -> int:
    if fmt not in FORMATS:
        raise ValueError(f"{name} must be one of {tuple(FORMATS)}, got {fmt!r}")
    return FORMATS[fmt]


def loss_shape(shape1, shape2):
    """Broadcast shape of the paired box arguments (..., 4) of the losses."""
    shape1, shape2 = tuple(shape1), tuple(shape2)
    check_last_dim("boxes1", shape1)
    check_last_dim("boxes2", shape2)
    out = []
    n = max(len(shape1), len(shape2))
    p1 = (1,) * (n - len(shape1)) + shape1
    p2 = (1,) * (n - len(shape2)) + shape2
    for d1, d2 in zip(p1, p2):
        if d1 != d2 and 1 not in (d1, d2):
            raise ValueError(f"boxes1 {shape1} and boxes2 {shape2} cannot be broadcast together")
        out.append(d2 if d1 == 1 else d1)
    return tuple(out)
