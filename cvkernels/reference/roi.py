"""Reference RoIAlign and RoIPool in numpy, written from the definitions with plain loops.

rois are (batch_index, x1, y1, x2, y2); output (K, C, PH, PW) in float64. Conventions as
torchvision (see cvkernels.roi_align): aligned shifts by half a pixel; sampling_ratio <= 0
means ceil(bin size) samples per side; a sample outside [-1, H] x [-1, W] contributes 0;
RoIs with a non-finite coordinate give 0.
"""

from __future__ import annotations

import math

import numpy as np


def _bilinear(plane, y, x):
    """Bilinear sample of plane (H, W) at (y, x), with torchvision's border rules."""
    H, W = plane.shape
    if not (-1.0 <= y <= H and -1.0 <= x <= W):
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= H - 1:
        y0 = y1 = H - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= W - 1:
        x0 = x1 = W - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    return hy * hx * plane[y0, x0] + hy * lx * plane[y0, x1] + ly * hx * plane[y1, x0] + ly * lx * plane[y1, x1]


def roi_align(input, rois, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    x = np.asarray(input, dtype=np.float64)
    rois = np.asarray(rois, dtype=np.float64).reshape(-1, 5)
    ph_n, pw_n = (output_size, output_size) if isinstance(output_size, int) else output_size
    K, C = len(rois), x.shape[1]
    out = np.zeros((K, C, ph_n, pw_n))
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            continue
        off = 0.5 if aligned else 0.0
        sw, sh = x1 * spatial_scale - off, y1 * spatial_scale - off
        rw, rh = x2 * spatial_scale - off - sw, y2 * spatial_scale - off - sh
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / ph_n, rw / pw_n
        gh = sampling_ratio if sampling_ratio > 0 else max(math.ceil(rh / ph_n), 0)
        gw = sampling_ratio if sampling_ratio > 0 else max(math.ceil(rw / pw_n), 0)
        count = max(gh * gw, 1)
        for c in range(C):
            plane = x[int(b), c]
            for ph in range(ph_n):
                for pw in range(pw_n):
                    total = 0.0
                    for iy in range(gh):
                        yy = sh + ph * bh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            xx = sw + pw * bw + (ix + 0.5) * bw / gw
                            total += _bilinear(plane, yy, xx)
                    out[k, c, ph, pw] = total / count
    return out


def roi_pool(input, rois, output_size, spatial_scale=1.0):
    x = np.asarray(input, dtype=np.float64)
    rois = np.asarray(rois, dtype=np.float64).reshape(-1, 5)
    ph_n, pw_n = (output_size, output_size) if isinstance(output_size, int) else output_size
    K, C, H, W = len(rois), x.shape[1], x.shape[2], x.shape[3]
    out = np.zeros((K, C, ph_n, pw_n))
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            continue
        # C's round(): half away from zero
        sw, sh, ew, eh = (int(math.copysign(math.floor(abs(v * spatial_scale) + 0.5), v)) for v in (x1, y1, x2, y2))
        rw, rh = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
        bh, bw = rh / ph_n, rw / pw_n
        for ph in range(ph_n):
            for pw in range(pw_n):
                hs = min(max(math.floor(ph * bh) + sh, 0), H)
                he = min(max(math.ceil((ph + 1) * bh) + sh, 0), H)
                ws = min(max(math.floor(pw * bw) + sw, 0), W)
                we = min(max(math.ceil((pw + 1) * bw) + sw, 0), W)
                if he <= hs or we <= ws:
                    continue  # an empty bin is 0
                out[k, :, ph, pw] = x[int(b), :, hs:he, ws:we].reshape(C, -1).max(axis=1)
    return out
