"""Benchmark cases of the Metric classes: MeanAveragePrecision update + compute over a synthetic
val2017-like set held as per-image tensors (5,000 images, 80 classes), beside torchmetrics'
MeanAveragePrecision with each of its backends."""

from __future__ import annotations

from . import OURS, Case
from .coco_data import synthetic_coco


def _tensors(torch, gt, dets):
    """Per-image (preds, target) dicts with xyxy boxes, in image order."""
    by_img = {im["id"]: ([], []) for im in gt["images"]}
    for a in gt["annotations"]:
        by_img[a["image_id"]][0].append(a)
    for d in dets:
        by_img[d["image_id"]][1].append(d)

    def xyxy(rows):
        b = torch.tensor([r["bbox"] for r in rows], dtype=torch.float32).reshape(-1, 4)
        return torch.cat([b[:, :2], b[:, :2] + b[:, 2:]], 1)

    preds, target = [], []
    for anns, ds in by_img.values():
        target.append({"boxes": xyxy(anns), "labels": torch.tensor([a["category_id"] for a in anns], dtype=torch.int64),
                       "iscrowd": torch.tensor([a["iscrowd"] for a in anns], dtype=torch.int64)})
        preds.append({"boxes": xyxy(ds), "scores": torch.tensor([d["score"] for d in ds], dtype=torch.float32),
                      "labels": torch.tensor([d["category_id"] for d in ds], dtype=torch.int64)})
    return preds, target


def cases(quick: bool = False):
    import torch

    from cvkernels.metrics import MeanAveragePrecision

    n = 500 if quick else 5000
    preds, target = _tensors(torch, *synthetic_coco(n, 80, seed=0))

    def run(make):
        def go():
            m = make()
            m.update(preds, target)
            return m.compute()["map"]

        return go

    impls = {OURS: run(MeanAveragePrecision)}
    try:
        from torchmetrics.detection import MeanAveragePrecision as TM

        for backend in ("pycocotools", "faster_coco_eval"):
            try:
                TM(backend=backend)
                impls[f"torchmetrics ({backend})"] = run(lambda backend=backend: TM(backend=backend))
            except Exception:  # noqa: BLE001  (backend not installed)
                pass
    except ImportError:
        pass
    note = f"{n} images, {sum(len(t['labels']) for t in target)} gt, {sum(len(p['labels']) for p in preds)} dets"
    return [Case("metrics MeanAveragePrecision update+compute (bbox)", impls, note=note)]
