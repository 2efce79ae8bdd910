"""Argument rules of the RoI ops, shared by the numpy path, the torch kernels and the fakes."""

from __future__ import annotations

import math

from ._core import check_last_dim, int_pair


def check_output_size(output_size):
    """(PH, PW) from an int or a pair of ints >= 0."""
    return int_pair("output_size", output_size, 0)


def check_scale(spatial_scale) -> float:
    if isinstance(spatial_scale, bool) or not isinstance(spatial_scale, (int, float)):
        raise TypeError(f"spatial_scale must be a float, got {type(spatial_scale).__name__}")
    if math.isnan(spatial_scale):
        raise ValueError("spatial_scale must be a number, got nan")
    return float(spatial_scale)


def check_sampling_ratio(sampling_ratio) -> int:
    if isinstance(sampling_ratio, bool) or not isinstance(sampling_ratio, int):
        raise TypeError(f"sampling_ratio must be an int, got {type(sampling_ratio).__name__}")
    return sampling_ratio


def roi_dims(input_shape, rois_shape):
    """(N, C, H, W, K) for input (N, C, H, W) and rois (K, 5)."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {input_shape}")
    check_last_dim("rois", rois_shape, (2,), last=5)
    return (*input_shape, rois_shape[0])


def batch_index_error(n: int) -> str:
    return f"boxes: every batch index (rois[:, 0]) must be an integer in [0, {n}) (the batch size of input)"
