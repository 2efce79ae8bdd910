"""nn.Module wrappers (torch only): RoIAlign and RoIPool with torchvision.ops' constructor
arguments and state (none), so they replace torchvision's modules one for one; DilatedConv2d,
an nn.Conv2d whose forward runs cvkernels.dilated_conv2d (same parameters and state_dict
keys), and ASPP, DeepLab v3's atrous spatial pyramid pooling on it (torchvision's structure
and state_dict keys)."""

from typing import Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from .boxes import box_area
from .conv import dilated_conv2d
from .roi import roi_align, roi_pool

__all__ = ["ASPP", "DilatedConv2d", "MultiScaleRoIAlign", "RoIAlign", "RoIPool"]


def _as_list(output_size) -> List[int]:
    """[h, w] from an int or a pair (what TorchScript's int[2] arguments take)."""
    if isinstance(output_size, int):
        return [output_size, output_size]
    return [int(v) for v in output_size]


class RoIAlign(torch.nn.Module):
    """See :func:`cvkernels.roi_align`. forward(input, rois) -> (K, C, PH, PW)."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int, aligned: bool = False):
        super().__init__()
        self.output_size = _as_list(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = aligned

    def forward(self, input: Tensor, rois: Union[Tensor, List[Tensor]]) -> Tensor:
        return roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)

    def __repr__(self):
        return (f"{self.__class__.__name__}(output_size={tuple(self.output_size)}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned})")


class RoIPool(torch.nn.Module):
    """See :func:`cvkernels.roi_pool`. forward(input, rois) -> (K, C, PH, PW)."""

    def __init__(self, output_size, spatial_scale: float):
        super().__init__()
        self.output_size = _as_list(output_size)
        self.spatial_scale = float(spatial_scale)

    def forward(self, input: Tensor, rois: Union[Tensor, List[Tensor]]) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(output_size={tuple(self.output_size)}, spatial_scale={self.spatial_scale})"


class MultiScaleRoIAlign(torch.nn.Module):
    """torchvision.ops.MultiScaleRoIAlign (the FPN pooler of Faster / Mask / Keypoint R-CNN):
    each box is pooled from one feature level, chosen by its size (level
    ``floor(canonical_level + log2(sqrt(area) / canonical_scale) + 1e-6)`` clamped to the
    levels present, Lin et al. 2017, eq. 1), with RoIAlign (aligned=False) at that level's
    scale, inferred as the power of two nearest to feature size / image size. Same arguments,
    same values (tested against torchvision), TorchScript-able.

    forward(x: Dict[str, Tensor], boxes: List[Tensor] (per image, (L, 4) xyxy),
    image_shapes: List[Tuple[int, int]]) -> (sum L, C, PH, PW).
    """

    __annotations__ = {"scales": Optional[List[float]], "k_min": Optional[int], "k_max": Optional[int]}

    def __init__(self, featmap_names: List[str], output_size, sampling_ratio: int, *, canonical_scale: int = 224,
                 canonical_level: int = 4):
        super().__init__()
        self.featmap_names = list(featmap_names)
        self.sampling_ratio = int(sampling_ratio)
        self.output_size = _as_list(output_size)
        self.canonical_scale = int(canonical_scale)
        self.canonical_level = int(canonical_level)
        self.scales: Optional[List[float]] = None
        self.k_min: Optional[int] = None
        self.k_max: Optional[int] = None

    def _setup_scales(self, features: List[Tensor], image_shapes: List[Tuple[int, int]]) -> None:
        if len(image_shapes) == 0:
            raise ValueError("image_shapes must not be empty")
        max_h = 0
        max_w = 0
        for shape in image_shapes:
            max_h = max(max_h, shape[0])
            max_w = max(max_w, shape[1])
        scales: List[float] = []
        for f in features:
            approx = float(f.shape[-2]) / float(max_h)
            scales.append(2 ** float(torch.tensor(approx).log2().round()))
        self.scales = scales
        self.k_min = int(-torch.log2(torch.tensor(scales[0], dtype=torch.float32)).item())
        self.k_max = int(-torch.log2(torch.tensor(scales[-1], dtype=torch.float32)).item())

    def _levels(self, boxes: List[Tensor], k_min: int, k_max: int) -> Tensor:
        s = torch.sqrt(torch.cat([box_area(b) for b in boxes]))
        lvl = torch.floor(self.canonical_level + torch.log2(s / self.canonical_scale) + torch.tensor(1e-6, dtype=s.dtype))
        return (torch.clamp(lvl, min=k_min, max=k_max).to(torch.int64) - k_min).to(torch.int64)

    def forward(self, x: Dict[str, Tensor], boxes: List[Tensor], image_shapes: List[Tuple[int, int]]) -> Tensor:
        features: List[Tensor] = []
        for k, v in x.items():
            if k in self.featmap_names:
                features.append(v)
        if len(features) == 0:
            raise ValueError("none of featmap_names is in x")
        self._setup_scales(features, image_shapes)
        scales = self.scales
        k_min = self.k_min
        k_max = self.k_max
        assert scales is not None and k_min is not None and k_max is not None
        ids: List[Tensor] = []
        for i, b in enumerate(boxes):
            ids.append(torch.full_like(b[:, :1], i))
        rois = torch.cat([torch.cat(ids, dim=0), torch.cat(boxes, dim=0)], dim=1)
        if len(features) == 1:
            return roi_align(features[0], rois, self.output_size, scales[0], self.sampling_ratio, False)
        levels = self._levels(boxes, k_min, k_max)
        # one call: every level pools its RoIs into their rows of one output
        return torch.ops.cvkernels.multi_scale_roi_align(features, rois, levels, scales, self.output_size[0],
                                                         self.output_size[1], self.sampling_ratio, False)

    def __repr__(self):
        return (f"{self.__class__.__name__}(featmap_names={self.featmap_names}, output_size={tuple(self.output_size)}, "
                f"sampling_ratio={self.sampling_ratio})")


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
