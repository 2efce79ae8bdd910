"""LVIS evaluation: lvis-api's interface (LVIS, LVISResults, LVISEval, Params) and numbers, on
cvkernels' COCO evaluator (csrc/eval/).

LVIS is COCO-style AP over a large, federated vocabulary (Gupta et al., 2019). What differs from
COCO, and how it maps onto the COCO matcher:

* results are cut to the 300 highest-scoring detections per image, across categories, when
  they are loaded (LVISResults; `max_dets`), and never again per category;
* an image is evaluated only for the categories it is labelled with: those of its ground truth
  (positive) and its `neg_category_ids` (verified absent); detections of any other category
  in that image are dropped;
* in an image's `not_exhaustive_category_ids`, detections that match no ground truth are
  ignored (not false positives): a per-detection flag of the matcher;
* no crowds: `iscrowd` is not read; an annotation's `ignore` flag ignores it (matched at most
  once);
* the summary: AP, AP50, AP75, APs/m/l, APr/c/f (categories by their `frequency`: rare, common,
  frequent), AR@300, ARs/m/l@300.

Example (`gt.json` an LVIS annotation file, `dets` a list of result dicts)::

    from cvkernels.lvis import LVIS, LVISEval, LVISResults
    gt = LVIS("gt.json")
    ev = LVISEval(gt, LVISResults(gt, dets), iou_type="bbox")
    ev.run()
    ev.print_results()
"""

from __future__ import annotations

import datetime
import json
import os
from collections import OrderedDict

import numpy as np

from . import _C
from .coco import COCO, COCOeval
from .coco.params import Params as _CocoParams

__all__ = ["LVIS", "LVISEval", "LVISResults", "Params"]


class LVIS(COCO):
    """lvis-api's LVIS dataset (get_ann_ids, get_cat_ids, get_img_ids, load_anns, load_cats,
    load_imgs, ann_to_rle, ann_to_mask, anns, cats, imgs, img_ann_map, cat_img_map), on
    cvkernels.coco.COCO (whose pycocotools-style methods it also has).

    Args:
        annotation_path: path to an LVIS JSON file, or its already-loaded dict.
    """

    def __init__(self, annotation_path=None):
        super().__init__(annotation_path)
        # The fast JSON reader keeps the columns only; an annotation's "ignore" key must then
        # be looked for in the file (LVIS files have none: the dicts are loaded only if so).
        self._may_ignore = True
        if self._native is not None and isinstance(annotation_path, (str, os.PathLike)):
            with open(annotation_path, "rb") as f:
                self._may_ignore = b'"ignore"' in f.read()

    img_ann_map = property(lambda self: self.imgToAnns)
    cat_img_map = property(lambda self: self.catToImgs)

    def get_ann_ids(self, img_ids=None, cat_ids=None, area_rng=None):
        """Ids of the annotations of img_ids (all images if None), then of cat_ids, with area in
        area_rng = [min, max] (inclusive)."""
        if img_ids is not None:
            anns = [a for i in img_ids for a in self.img_ann_map[i]]
        else:
            anns = self.dataset["annotations"]
        if cat_ids is not None:
            wanted = set(cat_ids)
            anns = [a for a in anns if a["category_id"] in wanted]
        if area_rng is not None:
            lo, hi = area_rng
            anns = [a for a in anns if lo <= a["area"] <= hi]
        return [a["id"] for a in anns]

    def get_cat_ids(self):
        return list(self.cats.keys())

    def get_img_ids(self):
        return list(self.imgs.keys())

    def _load_table(self, table, ids):
        return list(table.values()) if ids is None else [table[i] for i in ids]

    def load_anns(self, ids=None):
        return self._load_table(self.anns, ids)

    def load_cats(self, ids=None):
        return self._load_table(self.cats, ids)

    def load_imgs(self, ids=None):
        return self._load_table(self.imgs, ids)

    def ann_to_rle(self, ann):
        return self.annToRLE(ann)

    def ann_to_mask(self, ann):
        return self.annToMask(ann)


def _limited_order(img, score, max_dets):
    """lvis-api's limit_dets_per_image as an index order: images in order of first appearance;
    an image's results as given when it has at most max_dets, else its max_dets best by score
    (ties in given order, as Python's stable sort leaves them)."""
    n = img.shape[0]
    _, first, inverse, counts = np.unique(img, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    idx = np.arange(n)
    over = counts[inverse] > max_dets
    order = np.lexsort((idx, np.where(over, -score, 0.0), first[inverse]))  # last key first
    img_sorted = inverse[order]
    new_image = np.r_[True, img_sorted[1:] != img_sorted[:-1]]
    position = idx - np.flatnonzero(new_image)[np.cumsum(new_image) - 1]  # rank inside its image
    return order[position < max_dets]


class LVISResults(LVIS):
    """lvis-api's LVISResults: detections (a JSON path or a list of result dicts) limited to the
    max_dets highest-scoring per image, as a dataset evaluated against lvis_gt."""

    def __init__(self, lvis_gt, results, max_dets=300):
        if isinstance(lvis_gt, (str, os.PathLike)):
            lvis_gt = LVIS(lvis_gt)
        if not isinstance(lvis_gt, COCO):
            raise TypeError(f"Unsupported type {type(lvis_gt).__name__} of lvis_gt.")
        if isinstance(results, (str, os.PathLike)):
            with open(results, "rb") as f:
                raw = f.read()
            # box results without masks: read in C++ (the columns hold no segmentation)
            cols = None if b'"segmentation"' in raw else _C.read_coco_json(os.fspath(results), True)
            if isinstance(cols, dict) and len(cols["img"]) and not len(cols["kpts"]):
                # box results read in C++: cut and reordered as columns, no dicts
                order = _limited_order(cols["img"], cols["score"], max_dets) if max_dets >= 0 else slice(None)
                res = lvis_gt.loadRes({"image_id": cols["img"][order], "category_id": cols["cat"][order],
                                       "bbox": cols["box"][order], "score": cols["score"][order]})
                self.__dict__.update(res.__dict__)
                self._may_ignore = False
                return
            results = json.loads(raw)
        if not isinstance(results, list):
            raise ValueError(f"results must be a list of result dicts or a path to one, got {type(results).__name__}")
        if max_dets >= 0 and results:
            img, score = _image_and_score(results)
            order = _limited_order(img, score, max_dets)
            if order.shape[0] != len(results) or np.any(order != np.arange(len(results))):
                results = [results[i] for i in order.tolist()]
        res = lvis_gt.loadRes(results)
        self.__dict__.update(res.__dict__)
        self._may_ignore = False


def _image_and_score(results):
    fast = _C.box_results_from_list(results)
    if fast is not None:
        return np.asarray(fast[0]), np.asarray(fast[3], dtype=np.float64)
    try:
        img = np.asarray([r["image_id"] for r in results])
        score = np.asarray([r["score"] for r in results], dtype=np.float64)
    except (KeyError, TypeError) as e:
        raise ValueError(f"every result needs 'image_id' and a numeric 'score' ({e})") from None
    return img, score


class Params:
    """lvis-api's evaluation parameters."""

    def __init__(self, iou_type):
        self.img_ids = []
        self.cat_ids = []
        self.iou_thrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.rec_thrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.max_dets = 300
        self.area_rng = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.area_rng_lbl = ["all", "small", "medium", "large"]
        self.use_cats = 1
        self.img_count_lbl = ["r", "c", "f"]
        self.iou_type = iou_type


class _FederatedEval(COCOeval):
    """The COCO matcher with LVIS' rules (see the module docstring): no crowds, detections
    kept only in their image's labelled categories, unmatched ones ignored in not-exhaustive
    categories."""

    def __init__(self, gt, dt, iou_type, img_ids, cat_ids):
        super().__init__(gt, dt, iou_type)
        self._img_ids, self._cat_ids = img_ids, cat_ids

    def _federate(self, gt_side, dt_side):
        gsel, gi, gk, gb, ga, gc, gs = gt_side
        dsel, di, dk, db, da, dc, ds = dt_side
        K = len(self._cat_ids)
        cat_pos = {c: k for k, c in enumerate(self._cat_ids)}
        imgs = self.cocoGt.imgs
        neg, nel = [], []
        for i, img_id in enumerate(self._img_ids):
            info = imgs[img_id]
            neg += [i * K + cat_pos[c] for c in info.get("neg_category_ids", []) if c in cat_pos]
            nel += [i * K + cat_pos[c] for c in info.get("not_exhaustive_category_ids", []) if c in cat_pos]
        pos = gi * K + gk
        dkey = di * K + dk
        keep = np.isin(dkey, np.concatenate([pos, np.asarray(neg, dtype=np.int64)]))
        if not keep.all():
            at = np.flatnonzero(keep)
            dsel = at if isinstance(dsel, slice) else dsel[at]
            di, dk, db, da, dc, ds, dkey = di[at], dk[at], db[at], da[at], dc[at], ds[at], dkey[at]
        dt_ignore = np.isin(dkey, np.asarray(nel, dtype=np.int64)).view(np.uint8)
        gt_ignore = np.zeros(gi.shape[0], dtype=np.uint8)
        if getattr(self.cocoGt, "_may_ignore", True):
            anns = self.cocoGt.dataset.get("annotations", [])
            rows = range(len(anns)) if isinstance(gsel, slice) else gsel.tolist()
            gt_ignore = np.fromiter((bool(anns[r].get("ignore", 0)) for r in rows), dtype=np.uint8,
                                    count=gi.shape[0])
        no_crowd = np.zeros(gi.shape[0], dtype=np.uint8)
        return ((gsel, gi, gk, gb, ga, no_crowd, gs), (dsel, di, dk, db, da, dc, ds)), (gt_ignore, dt_ignore)


class LVISEval:
    """lvis-api's LVISEval: evaluate(), accumulate(), summarize(), run(), print_results(),
    get_results(); .params, .eval ("precision" (T, R, K, A), "recall" (T, K, A)), .results.

    Args:
        lvis_gt: LVIS, or a path to an LVIS annotation file.
        lvis_dt: LVISResults, or a path / list of result dicts (loaded with max_dets=300).
        iou_type: "segm" (default, as lvis-api) or "bbox".
    """

    def __init__(self, lvis_gt, lvis_dt, iou_type="segm"):
        if iou_type not in ("bbox", "segm"):
            raise ValueError(f"iou_type: {iou_type} is not supported.")
        if isinstance(lvis_gt, (str, os.PathLike)):
            lvis_gt = LVIS(lvis_gt)
        if not isinstance(lvis_gt, COCO):
            raise TypeError(f"Unsupported type {type(lvis_gt).__name__} of lvis_gt.")
        self.lvis_gt = lvis_gt
        if isinstance(lvis_dt, (str, os.PathLike, list)):
            lvis_dt = LVISResults(lvis_gt, lvis_dt)
        if not isinstance(lvis_dt, COCO):
            raise TypeError(f"Unsupported type {type(lvis_dt).__name__} of lvis_dt.")
        self.lvis_dt = lvis_dt
        self.params = Params(iou_type=iou_type)
        self.params.img_ids = sorted(self.lvis_gt.getImgIds())
        self.params.cat_ids = sorted(self.lvis_gt.getCatIds())
        self.eval = {}
        self.results = OrderedDict()
        self._coco = None

    def evaluate(self):
        """Match detections to ground truth for every image, category, area range and IoU
        threshold, with LVIS' federated rules (in C++, in parallel)."""
        p = self.params
        if not p.use_cats:
            raise ValueError("use_cats=0 is not supported (lvis-api's own code path for it is broken)")
        p.img_ids = list(np.unique(p.img_ids))
        ev = _FederatedEval(self.lvis_gt, self.lvis_dt, p.iou_type, p.img_ids, list(p.cat_ids))
        cp = _CocoParams(iouType=p.iou_type)
        cp.imgIds, cp.catIds = list(p.img_ids), list(p.cat_ids)
        cp.iouThrs, cp.recThrs = np.asarray(p.iou_thrs), np.asarray(p.rec_thrs)
        cp.areaRng, cp.areaRngLbl = [list(a) for a in p.area_rng], list(p.area_rng_lbl)
        # every detection of an (image, category) counts: LVISResults already cut each image
        cp.maxDets = [1 << 40]
        cp.useCats = 1
        ev.params = cp
        ev.evaluate()
        self._coco = ev

    def accumulate(self):
        """Precision (T, R, K, A) at the recall thresholds and recall (T, K, A), -1 where a
        category has no ground truth in an area range: lvis-api's self.eval."""
        if self._coco is None:
            raise RuntimeError("Please run evaluate() first.")
        self._coco.accumulate()
        e = self._coco.eval
        p = self.params
        self.eval = {
            "params": p,
            "counts": [len(p.iou_thrs), len(p.rec_thrs), len(p.cat_ids), len(p.area_rng)],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": e["precision"][..., 0],
            "recall": e["recall"][..., 0],
        }

    def _freq_groups(self):
        groups = [[] for _ in self.params.img_count_lbl]
        for idx, cat in enumerate(self.lvis_gt.load_cats(self.params.cat_ids)):
            groups[self.params.img_count_lbl.index(cat["frequency"])].append(idx)
        return groups

    def _summarize(self, summary_type, iou_thr=None, area_rng="all", freq_group_idx=None):
        aidx = [i for i, lbl in enumerate(self.params.area_rng_lbl) if lbl == area_rng]
        if summary_type == "ap":
            s = self.eval["precision"]
            if iou_thr is not None:
                s = s[np.where(iou_thr == self.params.iou_thrs)[0]]
            s = s[:, :, self.freq_groups[freq_group_idx], aidx] if freq_group_idx is not None else s[:, :, :, aidx]
        else:
            s = self.eval["recall"]
            if iou_thr is not None:
                s = s[np.where(iou_thr == self.params.iou_thrs)[0]]
            s = s[:, :, aidx]
        return -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])

    def summarize(self):
        """self.results: AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@300, ARs@300,
        ARm@300, ARl@300 (lvis-api's keys and values)."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first.")
        self.freq_groups = self._freq_groups()
        max_dets = self.params.max_dets
        r = self.results
        r["AP"] = self._summarize("ap")
        r["AP50"] = self._summarize("ap", iou_thr=0.50)
        r["AP75"] = self._summarize("ap", iou_thr=0.75)
        r["APs"] = self._summarize("ap", area_rng="small")
        r["APm"] = self._summarize("ap", area_rng="medium")
        r["APl"] = self._summarize("ap", area_rng="large")
        r["APr"] = self._summarize("ap", freq_group_idx=0)
        r["APc"] = self._summarize("ap", freq_group_idx=1)
        r["APf"] = self._summarize("ap", freq_group_idx=2)
        r[f"AR@{max_dets}"] = self._summarize("ar")
        for area_rng in ("small", "medium", "large"):
            r[f"AR{area_rng[0]}@{max_dets}"] = self._summarize("ar", area_rng=area_rng)

    def run(self):
        self.evaluate()
        self.accumulate()
        self.summarize()

    def print_results(self):
        template = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} catIds={:>3s}] = {:0.3f}"
        for key, value in self.results.items():
            title, kind = ("Average Precision", "(AP)") if "AP" in key else ("Average Recall", "(AR)")
            if len(key) > 2 and key[2].isdigit():
                iou = "{:0.2f}".format(float(key[2:]) / 100)
            else:
                iou = "{:0.2f}:{:0.2f}".format(self.params.iou_thrs[0], self.params.iou_thrs[-1])
            group = key[2] if len(key) > 2 and key[2] in ("r", "c", "f") else "all"
            area = key[2] if len(key) > 2 and key[2] in ("s", "m", "l") else "all"
            print(template.format(title, kind, iou, area, self.params.max_dets, group, value))

    def get_results(self):
        return self.results
