"""Dense decoding without NMS: heatmap_peaks (CenterNet's peak extraction and box decoding)."""

from __future__ import annotations

from . import _frontend as fe
from ._launch import decode as launch
from ._launch.arrays import NUMPY

__all__ = ["heatmap_peaks"]


@fe.public
def heatmap_peaks(heat, wh, reg=None, K: int = 100, kernel: int = 3):
    """CenterNet's decoding ("Objects as Points", ctdet_decode): the K highest peaks of class
    heatmaps and their boxes, without NMS. A peak is a pixel that no pixel of its kernel x kernel
    window exceeds (``max_pool2d(heat) == heat``); the K largest values of the suppressed map
    (peaks keep their value, the rest is 0) over classes and pixels, in descending order, as
    CenterNet's two torch.topk calls give them; boxes from the size and offset maps there:
    center ``(x + reg_x, y + reg_y)`` (``+ 0.5`` without reg), corners center -+ wh / 2.

    Args:
        heat: (B, C, H, W) heatmaps (CenterNet applies the sigmoid first), float32 / float64
            (half types computed in float32); NaN raises ValueError.
        wh: (B, 2, H, W) box width and height at each pixel (output-map units).
        reg: optional (B, 2, H, W) sub-pixel center offsets.
        K: how many peaks per image (at most C * H * W). kernel: the window, odd.

    Returns:
        (boxes (B, K, 4) x1 y1 x2 y2, scores (B, K), classes (B, K) int64, inds (B, K) int64
        pixel index y * W + x): numpy arrays, or tensors on heat's device (computed on the CPU).
        Equal scores are ordered by (class, y, x) (torch.topk leaves their order unspecified).

    Example:
        >>> import numpy as np, cvkernels
        >>> heat = np.zeros((1, 2, 4, 4), np.float32); heat[0, 1, 2, 1] = 0.9; heat[0, 0, 0, 3] = 0.5
        >>> wh = np.full((1, 2, 4, 4), 2.0, np.float32)
        >>> boxes, scores, classes, inds = cvkernels.heatmap_peaks(heat, wh, K=2)
        >>> scores.tolist(), classes.tolist(), boxes[0, 0].tolist()
        ([[0.8999999761581421, 0.5]], [[1, 0]], [0.5, 1.5, 2.5, 3.5])
    """
    t = fe.tensors(heat, wh, reg)
    if t:
        h, w, r = t
        if h.is_cuda:  # no CUDA kernel yet: the CPU's, results moved back
            out = fe.ops().heatmap_peaks(h.cpu(), w.cpu(), None if r is None else r.cpu(), int(K), int(kernel))
            return tuple(o.to(h.device) for o in out)
        return tuple(fe.ops().heatmap_peaks(h, w, r, int(K), int(kernel)))
    h = fe.array("heat", heat)
    boxes, scores, classes, inds = launch.heatmap_peaks(NUMPY, h, fe.array("wh", wh),
                                                        None if reg is None else fe.array("reg", reg), int(K),
                                                        int(kernel))
    return boxes, scores, classes, inds
