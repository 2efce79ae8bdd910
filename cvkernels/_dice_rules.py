"""Shapes of the soft-Dice loss, shared by the numpy path and the torch op and its fake."""

from __future__ import annotations


def dice_dims(input_shape, target_shape, target_is_labels):
    """(N, C, size, labels) for input (N, C, ...) and target (N, ...) labels or (N, C, ...)."""
    input_shape, target_shape = tuple(input_shape), tuple(target_shape)
    if len(input_shape) < 3:
        raise ValueError(f"input must have shape (N, C, H, W) (or (N, C, L)), got {input_shape}")
    N, C = input_shape[:2]
    size = 1
    for d in input_shape[2:]:
        size *= d
    if target_is_labels:
        if target_shape != (N,) + input_shape[2:]:
            raise ValueError(f"integer target must have shape {(N,) + input_shape[2:]} to match input {input_shape}, got {target_shape}")
        return N, C, size, True
    if target_shape != input_shape:
        raise ValueError(f"dense target must have the input's shape {input_shape}, got {target_shape}")
    return N, C, size, False
