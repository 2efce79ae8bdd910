"""torch.ops.cvkernels dense decoding operators: schema, CPU implementation (the launcher of
cvkernels._launch.decode with the torch adapter) and fake kernel."""

from __future__ import annotations

import torch

from .._launch import decode as launch
from ._common import TORCH, lib

lib.define("heatmap_peaks(Tensor heat, Tensor wh, Tensor? reg, int K, int kernel) -> (Tensor, Tensor, Tensor, Tensor)")


def _peaks(heat, wh, reg, K, kernel):
    boxes, scores, classes, inds = launch.heatmap_peaks(TORCH, heat, wh, reg, K, kernel)
    return boxes.to(heat.dtype), scores.to(heat.dtype), classes, inds


lib.impl("heatmap_peaks", _peaks, "CPU")


@torch.library.register_fake("cvkernels::heatmap_peaks")
def _(heat, wh, reg, K, kernel):
    B, _ = launch.peaks_spec(TORCH, heat, wh, reg, K, kernel)
    return (heat.new_empty((B, K, 4)), heat.new_empty((B, K)), heat.new_empty((B, K), dtype=torch.int64),
            heat.new_empty((B, K), dtype=torch.int64))
