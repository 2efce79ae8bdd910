"""CenterNet's decoding from its definition, in numpy."""

from __future__ import annotations

import numpy as np


def heatmap_peaks(heat, wh, reg=None, K=100, kernel=3):
    """(boxes, scores, classes, inds) of the K largest values of heat * (maxpool(heat) == heat),
    ties by (class, y, x)."""
    h = np.asarray(heat)
    B, C, H, W = h.shape
    r = kernel // 2
    padded = np.full((B, C, H + 2 * r, W + 2 * r), -np.inf, dtype=np.float64)
    padded[:, :, r:r + H, r:r + W] = h
    hmax = np.full(h.shape, -np.inf)
    for dy in range(kernel):
        for dx in range(kernel):
            hmax = np.maximum(hmax, padded[:, :, dy:dy + H, dx:dx + W])
    v = np.where(hmax == h, h, 0 * h).reshape(B, -1)
    order = np.stack([np.lexsort((np.arange(C * H * W), -v[b]))[:K] for b in range(B)])
    scores = np.take_along_axis(v, order, 1).astype(h.dtype)
    classes, inds = order // (H * W), order % (H * W)
    ys, xs = (inds // W).astype(h.dtype), (inds % W).astype(h.dtype)
    whs = np.asarray(wh).reshape(B, 2, H * W)
    w = np.take_along_axis(whs[:, 0], inds, 1)
    hh = np.take_along_axis(whs[:, 1], inds, 1)
    if reg is None:
        cx, cy = xs + h.dtype.type(0.5), ys + h.dtype.type(0.5)
    else:
        regs = np.asarray(reg).reshape(B, 2, H * W)
        cx, cy = xs + np.take_along_axis(regs[:, 0], inds, 1), ys + np.take_along_axis(regs[:, 1], inds, 1)
    boxes = np.stack([cx - w / 2, cy - hh / 2, cx + w / 2, cy + hh / 2], -1)
    return boxes, scores, classes.astype(np.int64), inds.astype(np.int64)
