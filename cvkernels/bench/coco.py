"""Benchmark cases of COCO evaluation: cvkernels beside every evaluator that is installed
(pycocotools, faster-coco-eval, hotcoco, ultrafast-pycocotools, vernier), on a synthetic
val2017-like set: 5,000 images, 80 classes, about 36,000 ground-truth boxes, 210,000
detections; and a person-keypoints set (5,000 images, about 12 persons and 20 keypoint results
per image). Two figures each: evaluate + accumulate + summarize on loaded objects, and end to
end from the two JSON files."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile

from . import OURS, Case
from .coco_data import synthetic_coco, synthetic_keypoints, with_segmentations


def _quiet(fn):
    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            return fn()

    return run


def _peers():
    """(label, COCO class, COCOeval factory) of each installed evaluator."""
    out = []
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        out.append(("pycocotools", COCO, COCOeval))
        try:
            import vernier

            out.append(("vernier", COCO, vernier.COCOeval))
        except Exception:  # noqa: BLE001
            pass
    except ImportError:
        pass
    for label, mod, ev in (("faster-coco-eval", "faster_coco_eval", "COCOeval_faster"),
                           ("hotcoco", "hotcoco", "COCOeval"),
                           ("ultrafast-pycocotools", "ultrafast_pycocotools", "COCOeval")):
        try:
            m = __import__(mod)
            out.append((label, m.COCO, getattr(m, ev)))
        except Exception:  # noqa: BLE001
            pass
    return out


def cases(quick: bool = False):
    n_images = 500 if quick else 5000
    gt, dets = synthetic_coco(n_images, 80, seed=0)
    note = f"{n_images} images, 80 classes, {len(gt['annotations'])} gt, {len(dets)} dets"
    out = _cases("bbox", gt, dets, note) + _e2e_cases(gt, dets, note)
    images = 60 if quick else 300
    gt, dets = with_segmentations(*synthetic_coco(images, 80, seed=1, gt_per_image=7.2, dets_per_image=42))
    out += _e2e_cases(gt, dets, f"{images} images, 80 classes, {len(gt['annotations'])} gt, {len(dets)} RLE results",
                      "segm")
    gt, dets = synthetic_keypoints(n_images, persons_per_image=12, dets_per_image=20, seed=0)
    note = f"{n_images} images, {len(gt['annotations'])} persons, {len(dets)} keypoint results"
    return out + _cases("keypoints", gt, dets, note)


def _e2e_cases(gt, dets, note, iou_type="bbox"):
    """coco-e2e: results held in memory (a list of dicts, an (N, 7) array, columns) to stats, the
    ground truth loaded once. Each call gets a shallow copy of every result dict (pycocotools-
    style evaluators add keys to them), for every evaluator alike. segm: a list of dicts with
    compressed RLEs, and columns with the same RLEs."""
    import numpy as np

    from cvkernels.coco import COCO, COCOeval

    tmp = tempfile.mkdtemp(prefix="cvk-coco-")
    gt_path = os.path.join(tmp, "gt.json")
    with open(gt_path, "w") as f:
        json.dump(gt, f)
    def run(coco_cls, ev_cls, results):
        with contextlib.redirect_stdout(io.StringIO()):
            g = coco_cls(gt_path)

        def go():
            e = ev_cls(g, g.loadRes(results()), iou_type)
            e.evaluate()
            e.accumulate()
            e.summarize()
            return e.stats

        return _quiet(go)

    def as_list():
        return [dict(d) for d in dets]

    impls = {OURS: run(COCO, COCOeval, as_list)}
    for label, coco_cls, ev_cls in _peers():
        if label != "vernier" or iou_type == "bbox":  # vernier cannot take pycocotools' segm results
            impls[label] = run(coco_cls, ev_cls, as_list)
    cols = {"image_id": np.array([d["image_id"] for d in dets]), "category_id": np.array([d["category_id"] for d in dets]),
            "score": np.array([d["score"] for d in dets])}
    if iou_type == "segm":
        cols["segmentation"] = [d["segmentation"] for d in dets]
        return [Case("coco-e2e segm from a list of RLE dicts", impls, note=note + "; the copy of the list is in every time"),
                Case("coco-e2e segm from columns with RLEs (cvkernels only)", {OURS: run(COCO, COCOeval, lambda: cols)},
                     note=note)]
    out = [Case("coco-e2e bbox from a list of dicts", impls, note=note + "; the copy of the list is in every time")]
    arr = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dets])
    cols["bbox"] = arr[:, 1:5]
    arr_impls = {OURS: run(COCO, COCOeval, lambda: arr)}
    for label, coco_cls, ev_cls in _peers():
        if label == "pycocotools":
            arr_impls[label] = run(coco_cls, ev_cls, lambda: arr)
    out.append(Case("coco-e2e bbox from an (N, 7) array", arr_impls, note=note))
    out.append(Case("coco-e2e bbox from columns (cvkernels only)", {OURS: run(COCO, COCOeval, lambda: cols)},
                    note=note))
    return out


def _cases(iou_type, gt, dets, note):
    from cvkernels.coco import COCO, COCOeval

    tmp = tempfile.mkdtemp(prefix="cvk-coco-")
    gt_path, dt_path = os.path.join(tmp, "gt.json"), os.path.join(tmp, "dt.json")
    with open(gt_path, "w") as f:
        json.dump(gt, f)
    with open(dt_path, "w") as f:
        json.dump(dets, f)

    def loaded(coco_cls):
        with contextlib.redirect_stdout(io.StringIO()):
            g = coco_cls(gt_path)
            return g, g.loadRes(dt_path)

    def evaluation(ev_cls, g, d):
        def run():
            e = ev_cls(g, d, iou_type)
            e.evaluate()
            e.accumulate()
            e.summarize()
            return e.stats

        return _quiet(run)

    def end_to_end(coco_cls, ev_cls):
        def run():
            g = coco_cls(gt_path)
            e = ev_cls(g, g.loadRes(dt_path), iou_type)
            e.evaluate()
            e.accumulate()
            e.summarize()
            return e.stats

        return _quiet(run)

    g, d = loaded(COCO)
    eval_impls = {OURS: evaluation(COCOeval, g, d)}
    e2e_impls = {OURS: end_to_end(COCO, COCOeval)}
    for label, coco_cls, ev_cls in _peers():
        try:
            pg, pd = loaded(coco_cls)
            eval_impls[label] = evaluation(ev_cls, pg, pd)
            e2e_impls[label] = end_to_end(coco_cls, ev_cls)
        except Exception as e:  # noqa: BLE001  (a peer that cannot read the files)
            note += f"; {label} failed: {type(e).__name__}"
    return [
        Case(f"COCO {iou_type} evaluate+accumulate+summarize", eval_impls, note=note),
        Case(f"COCO {iou_type} end to end (load JSON + loadRes + eval)", e2e_impls, note=note),
    ]
