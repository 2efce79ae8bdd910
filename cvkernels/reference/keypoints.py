"""Reference object keypoint similarity (OKS) in numpy, from COCO's definition.

For a detection d and a ground truth g with K keypoints, labelled where v_k > 0:
    e_k = ((xd_k - xg_k)^2 + (yd_k - yg_k)^2) / (2 sigma_k)^2 / (area_g + eps) / 2
    OKS = mean over labelled k of exp(-e_k)
A ground truth with no labelled keypoint uses every keypoint, with the distance of the
detected keypoint outside g's box grown by its width / height on each side.
"""

from __future__ import annotations

import numpy as np


def keypoint_oks(dt, gt, gt_boxes, gt_areas, sigmas):
    var = (2 * np.asarray(sigmas, dtype=np.float64)) ** 2
    dt = np.asarray(dt, dtype=np.float64).reshape(len(dt), len(var), 3)
    gt = np.asarray(gt, dtype=np.float64).reshape(len(gt), len(var), 3)
    out = np.zeros((len(dt), len(gt)))
    for j, (g, (x, y, w, h), area) in enumerate(zip(gt, np.asarray(gt_boxes, np.float64), gt_areas)):
        labelled = g[:, 2] > 0
        for i, d in enumerate(dt):
            if labelled.any():
                dx, dy = d[:, 0] - g[:, 0], d[:, 1] - g[:, 1]
            else:  # how far outside the grown box [x - w, x + 2w] x [y - h, y + 2h]
                dx = np.maximum(0, (x - w) - d[:, 0]) + np.maximum(0, d[:, 0] - (x + 2 * w))
                dy = np.maximum(0, (y - h) - d[:, 1]) + np.maximum(0, d[:, 1] - (y + 2 * h))
            e = (dx**2 + dy**2) / var / (area + np.spacing(1)) / 2
            if labelled.any():
                e = e[labelled]
            out[i, j] = np.mean(np.exp(-e))
    return out
