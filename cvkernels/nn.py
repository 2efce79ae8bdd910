"""nn.Module wrappers (torch only): RoIAlign and RoIPool with torchvision.ops' constructor
arguments and state (none), so they replace torchvision's modules one for one."""

from __future__ import annotations

import torch

from .roi import roi_align, roi_pool

__all__ = ["RoIAlign", "RoIPool"]


class RoIAlign(torch.nn.Module):
    """See :func:`cvkernels.roi_align`. forward(input, rois) -> (K, C, PH, PW)."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int, aligned: bool = False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input, rois):
        return roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)

    def __repr__(self):
        return (f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned})")


class RoIPool(torch.nn.Module):
    """See :func:`cvkernels.roi_pool`. forward(input, rois) -> (K, C, PH, PW)."""

    def __init__(self, output_size, spatial_scale: float):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})"
