"""nn.Module wrappers (torch only): RoIAlign and RoIPool with torchvision.ops' constructor
arguments and state (none), so they replace torchvision's modules one for one; DilatedConv2d,
an nn.Conv2d whose forward runs cvkernels.dilated_conv2d (same parameters and state_dict
keys), and ASPP, DeepLab v3's atrous spatial pyramid pooling on it (torchvision's structure
and state_dict keys)."""

from __future__ import annotations

import torch

from .conv import dilated_conv2d
from .roi import roi_align, roi_pool

__all__ = ["ASPP", "DilatedConv2d", "RoIAlign", "RoIPool"]


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


class DilatedConv2d(torch.nn.Conv2d):
    """A drop-in nn.Conv2d (same constructor, parameters and state_dict keys) computed by
    :func:`cvkernels.dilated_conv2d`. Non-zero padding modes pad with F.pad first, as torch."""

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            input = torch.nn.functional.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return dilated_conv2d(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return dilated_conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)


def _conv_bn_relu(cin, cout, k, rate=1):
    return [DilatedConv2d(cin, cout, k, padding=rate if k == 3 else 0, dilation=rate, bias=False),
            torch.nn.BatchNorm2d(cout), torch.nn.ReLU()]


class _ASPPConv(torch.nn.Sequential):
    def __init__(self, cin, cout, rate):
        super().__init__(*_conv_bn_relu(cin, cout, 3, rate))


class _ASPPPooling(torch.nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(torch.nn.AdaptiveAvgPool2d(1), *_conv_bn_relu(cin, cout, 1))

    def forward(self, x):
        size = x.shape[-2:]
        for m in self:
            x = m(x)
        return torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(torch.nn.Module):
    """Atrous spatial pyramid pooling (Chen et al., DeepLab v3): five parallel branches on the
    input, a 1x1 conv, three 3x3 atrous convs (padding = dilation = each rate) and image-level
    pooling (global average, 1x1 conv, upsampled back), each followed by BatchNorm and ReLU;
    their concatenation goes through a 1x1 projection, BatchNorm, ReLU and Dropout(0.5).

    Same structure and state_dict keys as torchvision.models.segmentation.deeplabv3.ASPP, so
    its weights load unchanged; every convolution is a :class:`DilatedConv2d`.

    Args:
        in_channels: input channels. atrous_rates: the three dilation rates (default 6, 12, 18).
        out_channels: channels of every branch and of the output (default 256).
    """

    def __init__(self, in_channels: int, atrous_rates=(6, 12, 18), out_channels: int = 256):
        super().__init__()
        rates = tuple(atrous_rates)
        if len(rates) != 3 or any(isinstance(r, bool) or not isinstance(r, int) or r < 1 for r in rates):
            raise ValueError(f"atrous_rates must be three ints >= 1, got {atrous_rates!r}")
        branches = [torch.nn.Sequential(*_conv_bn_relu(in_channels, out_channels, 1))]
        branches += [_ASPPConv(in_channels, out_channels, r) for r in rates]
        branches.append(_ASPPPooling(in_channels, out_channels))
        self.convs = torch.nn.ModuleList(branches)
        self.project = torch.nn.Sequential(*_conv_bn_relu(len(branches) * out_channels, out_channels, 1),
                                           torch.nn.Dropout(0.5))

    def forward(self, x):
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))
