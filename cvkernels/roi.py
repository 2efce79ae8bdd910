"""RoI pooling: roi_align and roi_pool with torchvision.ops' signatures and values, for torch
tensors (through torch.ops.cvkernels.*, differentiable with respect to the input) and numpy
arrays (forward only).

A RoI is (batch_index, x1, y1, x2, y2) in input-image coordinates; ``spatial_scale`` maps them
onto the feature map. ``boxes`` is a Tensor[K, 5] of RoIs or a list of Tensor[L, 4] boxes, one
per image (torchvision's two formats). Channels-last inputs (torch.channels_last, or a numpy
view of an NHWC array) are read in place, without a copy.
"""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import roi as launch
from ._launch.arrays import NUMPY

as_numpy = fe.array

__all__ = ["roi_align", "roi_pool"]


class BoxesShapeError(fe.InputError, AssertionError):
    """RoI boxes of the wrong shape: an InputError (ValueError, RuntimeError) that is also the
    AssertionError torchvision's check of the boxes raises."""


def _check_boxes(boxes):
    """torchvision's two formats: a (K, 5) tensor / array, or a list of (L, 4) ones."""
    if isinstance(boxes, (list, tuple)):
        for i, b in enumerate(boxes):
            shape = tuple(np.shape(b))  # a tensor's or array's .shape, a nested list's shape
            if len(shape) != 2 or shape[1] != 4:
                raise BoxesShapeError(f"boxes[{i}] must have shape (L, 4), got {shape}")
        return
    shape = tuple(np.shape(boxes))
    if len(shape) != 2 or shape[1] != 5:
        raise BoxesShapeError(f"boxes must be a (K, 5) array of RoIs or a list of (L, 4) arrays, got shape {shape}")


def _np_rois(boxes, dt):
    """(K, 5) RoIs of boxes in either format (shapes checked by _check_boxes)."""
    if isinstance(boxes, (list, tuple)):
        parts = []
        for i, b in enumerate(boxes):
            b = as_numpy(f"boxes[{i}]", b)
            parts.append(np.concatenate([np.full((len(b), 1), i, dtype=dt), b.astype(dt)], axis=1))
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, 5), dt)
    return np.ascontiguousarray(as_numpy("boxes", boxes), dtype=dt)


def _np_input(input):
    x = as_numpy("input", input)
    if x.ndim != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"input must be a float array, got dtype {x.dtype}")
    return x


def _torch_boxes(boxes, input):
    torch = fe.torch_module()
    if isinstance(boxes, (list, tuple)):
        parts = []
        for i, b in enumerate(boxes):  # shapes checked by _check_boxes
            b = torch.as_tensor(b, device=input.device)
            parts.append(torch.cat([torch.full_like(b[:, :1], i), b], dim=1))
        if not parts:
            return input.new_zeros((0, 5))
        return torch.cat(parts, dim=0)
    return boxes if isinstance(boxes, torch.Tensor) else torch.as_tensor(boxes, device=input.device)


@fe.public
def roi_align(input, boxes, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1, aligned: bool = False):
    """RoIAlign (He et al., Mask R-CNN), as ``torchvision.ops.roi_align``.

    Each RoI is scaled by ``spatial_scale`` (shifted by -0.5 pixel when ``aligned``), split
    into output_size bins, and each bin averages ``sampling_ratio`` x ``sampling_ratio``
    bilinear samples (``ceil(bin size)`` per side when ``sampling_ratio <= 0``). Samples
    outside the map count as 0.

    Args:
        input: (N, C, H, W) float features (channels-last memory is used in place).
        boxes: Tensor/ndarray (K, 5) of (batch_index, x1, y1, x2, y2), or a list of (L, 4).
        output_size: int or (PH, PW).
        spatial_scale, sampling_ratio, aligned: as torchvision.

    Returns:
        (K, C, PH, PW) in the input's dtype (float16/bfloat16 computed in float32).
        float32 values are the same bits as torchvision's.

    Raises:
        ValueError: bad shapes, a batch index outside [0, N) or not finite, negative
            output_size. TypeError: non-float input.

    RoIs with a NaN or infinite coordinate give 0 (and no gradient).

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> cvkernels.roi_align(x, np.array([[0, 0, 0, 4, 4]], np.float32), 2, sampling_ratio=1)
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
    """
    ph, pw = launch.output_size(output_size)
    scale = launch.spatial_scale(spatial_scale)
    sr = launch.sampling_ratio(sampling_ratio)
    _check_boxes(boxes)
    if fe.use_torch(input, boxes if not isinstance(boxes, (list, tuple)) else (boxes[0] if boxes else None)):
        torch = fe.torch_module()
        if not isinstance(input, torch.Tensor):
            raise TypeError("input must be a torch.Tensor when boxes are tensors")
        rois = _torch_boxes(boxes, input)
        return torch.ops.cvkernels.roi_align(input, rois, scale, ph, pw, sr, bool(aligned))
    x = _np_input(input)
    out = launch.align(NUMPY, x, _np_rois(boxes, NUMPY.compute_dtype("input", x.dtype)), ph, pw, scale, sr, bool(aligned))
    return out.astype(x.dtype, copy=False)


@fe.public
def roi_pool(input, boxes, output_size, spatial_scale: float = 1.0):
    """RoIPool (Girshick, Fast R-CNN), as ``torchvision.ops.roi_pool``: the RoI, rounded to
    whole pixels, is split into output_size bins and each bin takes its maximum (0 when the bin
    is empty).

    Args:
        input: (N, C, H, W) float features. boxes: (K, 5) RoIs or a list of (L, 4).
        output_size: int or (PH, PW). spatial_scale: float.

    Returns:
        (K, C, PH, PW) in the input's dtype; the same values as torchvision.

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> cvkernels.roi_pool(x, np.array([[0, 0, 0, 3, 3]], np.float32), 2)
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
    """
    ph, pw = launch.output_size(output_size)
    scale = launch.spatial_scale(spatial_scale)
    _check_boxes(boxes)
    if fe.use_torch(input, boxes if not isinstance(boxes, (list, tuple)) else (boxes[0] if boxes else None)):
        torch = fe.torch_module()
        if not isinstance(input, torch.Tensor):
            raise TypeError("input must be a torch.Tensor when boxes are tensors")
        rois = _torch_boxes(boxes, input)
        return torch.ops.cvkernels.roi_pool(input, rois, scale, ph, pw)[0]
    x = _np_input(input)
    out, _ = launch.pool(NUMPY, x, _np_rois(boxes, NUMPY.compute_dtype("input", x.dtype)), ph, pw, scale)
    return out.astype(x.dtype, copy=False)
