"""COCO and COCOeval with pycocotools' interface and numbers, on cvkernels' C++ evaluator.

    from cvkernels.coco import COCO, COCOeval
    gt = COCO("instances_val2017.json")
    dt = gt.loadRes("detections.json")
    E = COCOeval(gt, dt, "bbox")
    E.evaluate(); E.accumulate(); E.summarize()
    E.stats, E.eval["precision"]            # identical to pycocotools 2.0.11
    E.ap_per_class(), E.pr_curve(cat_id)     # beyond pycocotools

Differences from pycocotools, each a bug fix (documented in README.md):
  * an annotation with id 0 is evaluated like any other (pycocotools loses its matches);
  * summarize() uses the largest maxDets for AP (pycocotools hard-codes 100 and prints -1 when
    maxDets lacks 100) and works with fewer than three maxDets;
  * a ground truth without "iscrowd" counts as not crowd (pycocotools raises KeyError).
evaluate() and accumulate() print nothing; summarize() prints pycocotools' twelve lines.
iouType "bbox", "segm" and "keypoints".

Evaluation sharded by image across processes (evaluate_sharded, merge_match_records,
COCOeval.match_records): see cvkernels.coco.sharded.
"""

from __future__ import annotations

from .dataset import COCO
from .evaluator import COCOeval
from .params import Params
from .sharded import MatchRecords, evaluate_sharded, merge_match_records

__all__ = ["COCO", "COCOeval", "MatchRecords", "Params", "evaluate_sharded", "merge_match_records"]
