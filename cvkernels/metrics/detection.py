"""MeanAveragePrecision with torchmetrics' interface and values (its pycocotools backend, which
this equals key for key), computed by cvkernels.coco.

How torchmetrics defines the evaluation, and so this class: every updated image is an image of
the evaluation (ids 0, 1, ... in update order; for segm alone, images without masks are left
out, as torchmetrics does); boxes are converted to xywh; a ground truth's area is its `area`
entry when > 0, else its mask's area (when segm is evaluated) or w * h; a detection's area is
w * h for bbox and its mask's area for segm; `average="micro"` puts every label in one class;
per-class figures evaluate each class of the predictions and targets alone. Box evaluations go
straight from the stored tensors to the evaluator's columns (no per-box Python objects); segm
evaluations build pycocotools-style dicts around the RLEs.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .. import mask as mask_utils
from ..boxes import box_convert
from ..coco import COCO, COCOeval

try:
    from torchmetrics import Metric as _Base

    _HAS_TORCHMETRICS = True
except ImportError:  # a plain object with the same API
    _HAS_TORCHMETRICS = False

    class _Base:  # noqa: D401
        """Stand-in for torchmetrics.Metric: list states, update / compute / reset."""

        def __init__(self, **kwargs):
            self._defaults = {}

        def add_state(self, name, default, dist_reduce_fx=None):
            self._defaults[name] = default
            setattr(self, name, list(default))

        def reset(self):
            for name, default in self._defaults.items():
                setattr(self, name, list(default))

        def __call__(self, *args, **kwargs):
            self.update(*args, **kwargs)
            return self.compute()


_STATES = ("detection_box", "detection_mask", "detection_scores", "detection_labels", "groundtruth_box",
           "groundtruth_mask", "groundtruth_labels", "groundtruth_crowds", "groundtruth_area")


class MeanAveragePrecision(_Base):
    """torchmetrics.detection.MeanAveragePrecision's arguments (``backend`` is accepted and
    ignored: the evaluation is cvkernels'), inputs and outputs. See torchmetrics' documentation
    for the meaning of each; the values equal its pycocotools backend's.

    Example:
        >>> import torch
        >>> from cvkernels.metrics import MeanAveragePrecision
        >>> m = MeanAveragePrecision()
        >>> m.update([dict(boxes=torch.tensor([[258.0, 41.0, 606.0, 285.0]]), scores=torch.tensor([0.536]),
        ...                labels=torch.tensor([0]))],
        ...          [dict(boxes=torch.tensor([[214.0, 41.0, 562.0, 285.0]]), labels=torch.tensor([0]))])
        >>> round(float(m.compute()["map"]), 4)
        0.6
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = True

    def __init__(self, box_format: str = "xyxy", iou_type="bbox", iou_thresholds: Optional[List[float]] = None,
                 rec_thresholds: Optional[List[float]] = None, max_detection_thresholds: Optional[List[int]] = None,
                 class_metrics: bool = False, extended_summary: bool = False, average: str = "macro",
                 backend: str = "pycocotools", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if box_format not in ("xyxy", "xywh", "cxcywh"):
            raise ValueError(f"Expected argument `box_format` to be one of ('xyxy', 'xywh', 'cxcywh') but got {box_format}")
        self.box_format = box_format
        types = (iou_type,) if isinstance(iou_type, str) else tuple(iou_type)
        if not types or any(t not in ("bbox", "segm") for t in types):
            raise ValueError(f"Expected argument `iou_type` to be one of ('bbox', 'segm') or a tuple of them, got {iou_type}")
        self.iou_type = types
        for name, value in (("iou_thresholds", iou_thresholds), ("rec_thresholds", rec_thresholds),
                            ("max_detection_thresholds", max_detection_thresholds)):
            if value is not None and not isinstance(value, list):
                raise ValueError(f"Expected argument `{name}` to either be `None` or a list but got {value}")
        # torchmetrics' defaults are float32 linspaces (0.550000011920929, ...): the same values here
        self.iou_thresholds = iou_thresholds or torch.linspace(0.5, 0.95, 10).tolist()
        self.rec_thresholds = rec_thresholds or torch.linspace(0.0, 1.00, 101).tolist()
        if max_detection_thresholds is not None and len(max_detection_thresholds) != 3:
            raise ValueError("When providing a list of max detection thresholds it should have length 3."
                             f" Got value {len(max_detection_thresholds)}")
        self.max_detection_thresholds = sorted(int(v) for v in (max_detection_thresholds or [1, 10, 100]))
        if not isinstance(class_metrics, bool) or not isinstance(extended_summary, bool):
            raise ValueError("Expected arguments `class_metrics` and `extended_summary` to be booleans")
        self.class_metrics = class_metrics
        self.extended_summary = extended_summary
        if average not in ("macro", "micro"):
            raise ValueError(f"Expected argument `average` to be one of ('macro', 'micro') but got {average}")
        self.average = average
        for name in _STATES:
            self.add_state(name, default=[], dist_reduce_fx=None)

    # --- update ------------------------------------------------------------------------------

    def update(self, preds: Sequence[Dict[str, Tensor]], target: Sequence[Dict[str, Tensor]]) -> None:
        """Store one batch: ``preds`` dicts of boxes (or masks), scores and labels; ``target``
        dicts of boxes (or masks), labels and optionally iscrowd and area."""
        _check_inputs(preds, target, self.iou_type)
        for item in preds:
            box, masks = self._item(item)
            if box is not None:
                self.detection_box.append(box)
            if masks is not None:
                self.detection_mask.append(masks)
            self.detection_labels.append(item["labels"])
            self.detection_scores.append(item["scores"])
        for item in target:
            box, masks = self._item(item)
            if box is not None:
                self.groundtruth_box.append(box)
            if masks is not None:
                self.groundtruth_mask.append(masks)
            self.groundtruth_labels.append(item["labels"])
            self.groundtruth_crowds.append(item.get("iscrowd", torch.zeros_like(item["labels"])))
            self.groundtruth_area.append(item.get("area", torch.zeros_like(item["labels"])))

    def _item(self, item):
        box = masks = None
        if "bbox" in self.iou_type:  # stored as given: converted to xywh in one call at compute()
            box = item["boxes"].detach()
            box = box.reshape(0, 4) if box.numel() == 0 else box
        if "segm" in self.iou_type:
            rles = mask_utils.encode(item["masks"].detach().cpu().numpy().transpose(1, 2, 0)) if len(item["masks"]) else []
            masks = tuple((tuple(r["size"]), r["counts"]) for r in rles)
        return box, masks

    # --- many processes (torchmetrics calls this in compute() under torch.distributed) -------

    def _sync_dist(self, dist_sync_fn=None, process_group=None) -> None:
        """Gather every process's stored images (uneven counts and processes without images
        included) with torch.distributed's all_gather_object, interleaved image by image across
        ranks (the order DistributedSampler deals them out, as torchmetrics does), so compute()
        sees the whole data set in its original order."""
        import torch.distributed as dist

        state = {name: [t.detach().cpu() if isinstance(t, Tensor) else t for t in getattr(self, name)]
                 for name in _STATES}
        gathered = [None] * dist.get_world_size(process_group)
        dist.all_gather_object(gathered, state, group=process_group)
        for name in _STATES:
            lists = [g[name] for g in gathered]
            longest = max((len(v) for v in lists), default=0)
            setattr(self, name, [v[i] for i in range(longest) for v in lists if i < len(v)])

    # --- compute -----------------------------------------------------------------------------

    def compute(self) -> dict:
        mdt = self.max_detection_thresholds
        labels = self.detection_labels + self.groundtruth_labels
        classes = torch.cat(labels).unique().cpu().tolist() if labels else []
        result: Dict[str, Any] = {}
        for i_type in self.iou_type:
            prefix = "" if len(self.iou_type) == 1 else f"{i_type}_"
            gt, dt = self._coco(i_type, self.average, classes)
            if gt is None:
                stats = [-1.0] * 12
            else:
                ev = self._evaluate(gt, dt, i_type)
                stats = list(ev.stats)
                if self.extended_summary:
                    result[f"{prefix}ious"] = {k: torch.tensor(v, dtype=torch.float32) if isinstance(v, np.ndarray) else v
                                               for k, v in ev.ious.items()}
                    for key in ("precision", "recall", "scores"):
                        result[f"{prefix}{key}"] = torch.tensor(ev.eval[key])
            names = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large", f"mar_{mdt[0]}",
                     f"mar_{mdt[1]}", f"mar_{mdt[2]}", "mar_small", "mar_medium", "mar_large"]
            for name, value in zip(names, stats):
                result[f"{prefix}{name}"] = torch.tensor([value], dtype=torch.float32)
            if gt is None:  # as torchmetrics: no per-class entries without images
                continue
            per_class = [-1.0], [-1.0]
            if self.class_metrics:
                # fresh objects, as torchmetrics (which also keeps the detections' mask areas here)
                gt, dt = self._coco(i_type, "macro", classes, swap_area=False)
                ev = self._evaluator(gt, dt, i_type)
                per_class = [], []
                for c in classes:
                    ev.params.catIds = [c]
                    _quiet(lambda: (ev.evaluate(), ev.accumulate(), ev.summarize()))
                    per_class[0].append(float(ev.stats[0]))
                    per_class[1].append(float(ev.stats[8]))
            result[f"{prefix}map_per_class"] = torch.tensor(per_class[0], dtype=torch.float32)
            result[f"{prefix}mar_{mdt[-1]}_per_class"] = torch.tensor(per_class[1], dtype=torch.float32)
        result["classes"] = torch.tensor(classes, dtype=torch.int32)
        return result

    def _evaluator(self, gt, dt, iou_type):
        ev = COCOeval(gt, dt, iou_type)
        ev.params.iouThrs = np.array(self.iou_thresholds, dtype=np.float64)
        ev.params.recThrs = np.array(self.rec_thresholds, dtype=np.float64)
        ev.params.maxDets = list(self.max_detection_thresholds)
        return ev

    def _evaluate(self, gt, dt, iou_type):
        ev = self._evaluator(gt, dt, iou_type)
        _quiet(lambda: (ev.evaluate(), ev.accumulate(), ev.summarize()))
        return ev

    def _coco(self, iou_type, average, classes, swap_area=True):
        """(ground truth, detections) COCO objects of the stored state for one evaluation, or
        (None, None) when no image was updated."""
        n = len(self.groundtruth_labels)
        if n == 0 or len(self.detection_labels) == 0:
            return None, None
        if "segm" in self.iou_type:  # masks: pycocotools-style dicts around the RLEs
            return self._coco_dicts(iou_type, average, classes, swap_area)
        cats = classes if average != "micro" else [0]
        gt = _columns_coco(self.groundtruth_labels, self._xywh(self.groundtruth_box), average, cats, n,
                           crowds=self.groundtruth_crowds, area=self.groundtruth_area)
        dt = _columns_coco(self.detection_labels, self._xywh(self.detection_box), average, cats, n,
                           scores=self.detection_scores)
        return gt, dt

    def _xywh(self, boxes: List[Tensor]) -> List[Tensor]:
        """The stored boxes in xywh, converted in one call (the same values as per image)."""
        if not boxes:
            return boxes
        flat = torch.cat([b.cpu().reshape(-1, 4) for b in boxes])
        if flat.numel():
            flat = box_convert(flat, self.box_format, "xywh")
        return list(flat.split([len(b) for b in boxes]))

    def _coco_dicts(self, iou_type, average, classes, swap_area):
        both = len(self.iou_type) > 1
        sides = []
        gt_boxes, dt_boxes = self._xywh(self.groundtruth_box), self._xywh(self.detection_box)
        for labels, boxes, masks, scores, crowds, area in (
                (self.groundtruth_labels, gt_boxes, self.groundtruth_mask, None, self.groundtruth_crowds,
                 self.groundtruth_area),
                (self.detection_labels, dt_boxes, self.detection_mask, self.detection_scores, None, None)):
            images, anns = [], []
            for i, lab in enumerate(labels):
                m = masks[i]
                if len(m) == 0 and "bbox" not in self.iou_type:  # segm alone: images with masks
                    continue
                images.append({"id": i})
                if len(m):
                    images[-1]["height"], images[-1]["width"] = m[0][0]
                lab = [0] * len(lab) if average == "micro" else lab.cpu().tolist()
                bx = boxes[i].tolist() if boxes else None
                given = area[i].cpu().tolist() if area is not None else None
                for k, c in enumerate(lab):
                    rle = {"size": list(m[k][0]), "counts": m[k][1]}
                    mask_area = float(mask_utils.area(rle))
                    if given is not None and given[k] > 0:
                        a = given[k]
                    elif scores is not None and both and iou_type == "bbox" and swap_area:
                        a = bx[k][2] * bx[k][3]  # torchmetrics swaps in the detections' box area for bbox
                    else:
                        a = mask_area
                    ann = {"id": len(anns) + 1, "image_id": i, "category_id": c, "area": a, "segmentation": rle,
                           "iscrowd": int(crowds[i][k]) if crowds is not None else 0}
                    if bx is not None:
                        ann["bbox"] = bx[k]
                    if scores is not None:
                        ann["score"] = float(scores[i][k])
                    anns.append(ann)
            cats = [{"id": c} for c in classes] if average != "micro" else [{"id": 0}]
            sides.append(COCO({"images": images, "annotations": anns, "categories": cats}))
        if not sides[0].dataset["images"] or not sides[1].dataset["images"]:
            return None, None
        return sides[0], sides[1]


def _columns_coco(labels, boxes, average, categories, n_images, scores=None, crowds=None, area=None):
    """A COCO object whose evaluation columns come straight from per-image tensors."""
    counts = torch.tensor([len(v) for v in labels], dtype=torch.int64)
    img = torch.repeat_interleave(torch.arange(n_images, dtype=torch.int64), counts).numpy()
    total = int(counts.sum())
    cat = np.zeros(total, np.int64) if average == "micro" else torch.cat(labels).cpu().to(torch.int64).numpy()
    box = torch.cat([b.detach().cpu() for b in boxes]).numpy().astype(np.float64).reshape(total, 4) if total \
        else np.zeros((0, 4))
    wh = box[:, 2] * box[:, 3]
    if area is not None and total:
        given = torch.cat(area).cpu().numpy().astype(np.float64)
        wh = np.where(given > 0, given, wh)
    crowd = (torch.cat(crowds).cpu().numpy() != 0).view(np.uint8) if crowds is not None and total else np.zeros(total, np.uint8)
    score = torch.cat(scores).detach().cpu().numpy().astype(np.float64) if scores is not None and total else np.zeros(total)
    cols = {"img": img, "cat": cat, "box": np.ascontiguousarray(box), "area": wh, "crowd": crowd, "score": score,
            "id": np.arange(1, total + 1, dtype=np.int64), "image_ids": np.arange(n_images, dtype=np.int64),
            "category_ids": np.asarray(categories, dtype=np.int64)}
    coco = COCO()
    coco._is_result = scores is not None
    coco._set_native(cols, lambda: _dicts_of(cols))
    return coco


def _dicts_of(cols):
    """The dataset dicts of columns (only built when something asks for coco.dataset)."""
    anns = [{"id": int(i), "image_id": int(im), "category_id": int(c), "bbox": b.tolist(), "area": float(a),
             "iscrowd": int(cr), "score": float(s)}
            for i, im, c, b, a, cr, s in zip(cols["id"], cols["img"], cols["cat"], cols["box"], cols["area"],
                                             cols["crowd"], cols["score"])]
    return {"images": [{"id": int(i)} for i in cols["image_ids"]], "annotations": anns,
            "categories": [{"id": int(c)} for c in cols["category_ids"]]}


def _check_inputs(preds, target, iou_type):
    if not isinstance(preds, Sequence) or not isinstance(target, Sequence):
        raise ValueError("Expected arguments `preds` and `target` to be sequences of dicts")
    if len(preds) != len(target):
        raise ValueError(f"Expected argument `preds` and `target` to have the same length, but got {len(preds)} and "
                         f"{len(target)}")
    keys = [{"bbox": "boxes", "segm": "masks"}[t] for t in iou_type]
    for side, items, need in (("preds", preds, keys + ["labels", "scores"]), ("target", target, keys + ["labels"])):
        for i, item in enumerate(items):
            for k in need:
                if k not in item:
                    raise ValueError(f"Expected all dicts in `{side}` to contain the `{k}` key")
                if not isinstance(item[k], Tensor):
                    raise ValueError(f"Expected all {k} in `{side}` to be of type Tensor")
            n = item["labels"].shape[0]
            for k in need:
                if item[k].shape[0] != n:
                    raise ValueError(f"Input '{k}' and labels of sample {i} in {side} have a different length")
            if item["labels"].is_floating_point():
                raise ValueError(f"Invalid input class of sample {i} in {side} (expected integer labels)")
            if "boxes" in need and item["boxes"].numel() and item["boxes"].shape[-1] != 4:
                raise ValueError(f"Invalid input box of sample {i} in {side} (expected 4 values)")


def _quiet(fn):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn()

