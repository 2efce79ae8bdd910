"""Params: pycocotools' evaluation parameters."""

from __future__ import annotations

import copy

import numpy as np


class Params:
    """pycocotools' evaluation parameters: image and category ids, IoU (OKS) and recall
    thresholds, maxDets, area ranges, useCats, iouType ("segm" by default, as in pycocotools);
    for keypoints also kpt_oks_sigmas (COCO's 17 person keypoints)."""

    def __init__(self, iouType="segm"):
        if iouType not in ("segm", "bbox", "keypoints"):
            raise ValueError(f"iouType must be 'segm', 'bbox' or 'keypoints', got {iouType!r}")
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        if iouType == "keypoints":
            self.maxDets = [20]
            self.areaRng = [[0**2, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]]
            self.areaRngLbl = ["all", "medium", "large"]
            self.kpt_oks_sigmas = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87,
                                            .87, .89, .89]) / 10.0
        else:
            self.maxDets = [1, 10, 100]
            self.areaRng = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
            self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1
        self.iouType = iouType
        self.useSegm = None


def copy_params(p):
    """A copy of Params whose lists and arrays are not shared (deepcopy, without its cost on
    thousands of image ids)."""
    q = copy.copy(p)
    for name, value in vars(p).items():
        if isinstance(value, np.ndarray):
            setattr(q, name, value.copy())
        elif isinstance(value, list) and name in ("imgIds", "catIds"):  # ids: a shallow copy (thousands)
            setattr(q, name, list(value))
        elif isinstance(value, list):
            setattr(q, name, [list(v) if isinstance(v, list) else v for v in value])
    return q
