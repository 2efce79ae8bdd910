"""Argument rules of the NMS ops, shared by the numpy path, the torch kernels and the fake
kernels."""

from __future__ import annotations

import math

from ._core import check_last_dim

METHODS = {"gaussian": 0, "linear": 1}


def check_nms_shapes(boxes_shape, scores_shape, idxs_shape=None) -> int:
    check_last_dim("boxes", boxes_shape, (2,))
    n = boxes_shape[0]
    if tuple(scores_shape) != (n,):
        raise ValueError(f"scores must have shape ({n},) to match boxes {tuple(boxes_shape)}, got {tuple(scores_shape)}")
    if idxs_shape is not None and tuple(idxs_shape) != (n,):
        raise ValueError(f"idxs must have shape ({n},) to match boxes {tuple(boxes_shape)}, got {tuple(idxs_shape)}")
    return n


def check_float(name: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_method(method) -> int:
    if method not in METHODS:
        raise ValueError(f"method must be 'gaussian' or 'linear', got {method!r}")
    return METHODS[method]


def multiclass_dims(boxes_shape, scores_shape):
    """(B, N, C, boxes_per_class) for boxes (B,N,4) or (B,N,C,4) and scores (B,N,C)."""
    boxes_shape, scores_shape = tuple(boxes_shape), tuple(scores_shape)
    if len(scores_shape) != 3:
        raise ValueError(f"scores must have shape (B, N, C), got {scores_shape}")
    B, N, C = scores_shape
    if boxes_shape == (B, N, 4):
        return B, N, C, False
    if boxes_shape == (B, N, C, 4):
        return B, N, C, True
    raise ValueError(f"boxes must have shape ({B}, {N}, 4) or ({B}, {N}, {C}, 4) to match scores {scores_shape}, got {boxes_shape}")
