"""Benchmark cases of COCO RLE (cvkernels.mask beside pycocotools.mask) and of segm evaluation
beside every installed evaluator (500 images, about 21,000 detections)."""

from __future__ import annotations

import copy

import numpy as np

from . import OURS, Case
from .coco import _peers, _quiet
from .coco_data import synthetic_coco, with_segmentations
from .masks import blobs


def cases(quick: bool = False):
    from cvkernels import mask as cm
    from cvkernels.coco import COCO, COCOeval

    try:
        from pycocotools import mask as pm
    except ImportError:
        pm = None
    out = []
    n, h = (20, 256) if quick else (100, 512)
    m = np.asfortranarray(blobs(n, h, h, 7).transpose(1, 2, 0).astype(np.uint8))
    rles = cm.encode(m)
    impls = {OURS: lambda: cm.encode(m)}
    if pm:
        impls["pycocotools.mask.encode"] = lambda: pm.encode(m)
    out.append(Case(f"RLE encode {n} masks {h}x{h}", impls))
    impls = {OURS: lambda: cm.decode(rles)}
    if pm:
        impls["pycocotools.mask.decode"] = lambda: pm.decode(rles)
    out.append(Case(f"RLE decode {n} masks {h}x{h}", impls))
    crowd = [0] * n
    impls = {OURS: lambda: cm.iou(rles, rles, crowd)}
    if pm:
        impls["pycocotools.mask.iou"] = lambda: pm.iou(rles, rles, crowd)
    out.append(Case(f"RLE iou {n}x{n}", impls))

    images = 100 if quick else 500
    gt, dets = with_segmentations(*synthetic_coco(images, 80, seed=1, gt_per_image=7.2, dets_per_image=42))
    note = f"{images} images, {len(gt['annotations'])} gt, {len(dets)} segm results"

    def evaluation(coco_cls, ev_cls):
        with __import__("contextlib").redirect_stdout(__import__("io").StringIO()):
            g = coco_cls()
            g.dataset = copy.deepcopy(gt)
            g.createIndex()
            d = g.loadRes(copy.deepcopy(dets))

        def run():
            e = ev_cls(g, d, "segm")
            e.evaluate()
            e.accumulate()
            e.summarize()
            return e.stats

        return _quiet(run)

    impls = {OURS: evaluation(COCO, COCOeval)}
    for label, coco_cls, ev_cls in _peers():
        try:
            impls[label] = evaluation(coco_cls, ev_cls)
        except Exception as e:  # noqa: BLE001
            note += f"; {label} failed: {type(e).__name__}"
    out.append(Case("COCO segm evaluate+accumulate+summarize", impls, note=note))
    return out
