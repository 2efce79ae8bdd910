"""Benchmark cases of dense decoding: heatmap_peaks beside CenterNet's torch expression
(max_pool2d suppression, two torch.topk, gathers) on CenterNet's output size (128 x 128, 80
classes, K = 100), sigmoid heatmaps."""

from __future__ import annotations

from . import OURS, Case


def _centernet(heat, wh, reg, K):
    import torch
    import torch.nn.functional as F

    B, C, H, W = heat.shape
    hmax = F.max_pool2d(heat, (3, 3), stride=1, padding=1)
    heat = heat * (hmax == heat).float()
    topk_scores, topk_inds = torch.topk(heat.view(B, C, -1), K)
    topk_inds = topk_inds % (H * W)
    scores, ind = torch.topk(topk_scores.view(B, -1), K)
    inds = topk_inds.view(B, -1).gather(1, ind)
    ys, xs = (inds // W).float(), (inds % W).float()
    idx = inds.unsqueeze(2).expand(B, K, 2)
    r = reg.view(B, 2, -1).permute(0, 2, 1).gather(1, idx)
    w = wh.view(B, 2, -1).permute(0, 2, 1).gather(1, idx)
    xs, ys = xs + r[..., 0], ys + r[..., 1]
    return torch.stack([xs - w[..., 0] / 2, ys - w[..., 1] / 2, xs + w[..., 0] / 2, ys + w[..., 1] / 2], -1), scores


def cases(quick: bool = False):
    import torch

    import cvkernels

    B = 2 if quick else 8
    g = torch.Generator().manual_seed(0)
    heat = (torch.randn(B, 80, 128, 128, generator=g) * 2 - 6).sigmoid()  # mostly low, some peaks
    wh = torch.rand(B, 2, 128, 128, generator=g) * 30
    reg = torch.rand(B, 2, 128, 128, generator=g)
    impls = {OURS: lambda: cvkernels.heatmap_peaks(heat, wh, reg, K=100),
             "torch (CenterNet's decode)": lambda: _centernet(heat, wh, reg, 100)}
    return [Case(f"heatmap_peaks {B} x 80 x 128 x 128, K=100", impls, in_bytes=heat.numel() * 4,
                 note="float32 sigmoid heatmaps")]
