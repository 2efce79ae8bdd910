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
iouType "bbox" and "segm" are implemented ("keypoints" raises NotImplementedError).
"""

from __future__ import annotations

import copy
import datetime
import itertools
import json
import math
import os
import time
from collections import defaultdict
from operator import itemgetter

import numpy as np

from . import _C, _threads

__all__ = ["COCO", "COCOeval", "Params"]


def _fail(msg):
    raise ValueError(msg)


class COCO:
    """A COCO dataset: pycocotools.coco.COCO's interface (getImgIds, getCatIds, getAnnIds,
    loadAnns, loadCats, loadImgs, loadRes, ...).

    Args:
        annotation_file: path to a COCO JSON file, or an already-loaded dict, or None.
    """

    def __init__(self, annotation_file=None):
        self._dataset = {}
        self._dataset_loader = None  # loads self._dataset on first access (fast-read files)
        self._native = None  # columns from the fast JSON reader
        self._index = None
        self._columns_cache = None
        self._is_result = False
        if annotation_file is None:
            return
        if isinstance(annotation_file, dict):
            dataset = annotation_file
        else:
            path = os.fspath(annotation_file)
            cols = _C.read_coco_json(path, False)
            if isinstance(cols, dict):
                # The fast reader has the columns the evaluator needs; the Python objects of the
                # file are only loaded if something asks for self.dataset.
                self._set_native(cols, lambda: _load_json(path))
                return
            dataset = _load_json(path)
        if not isinstance(dataset, dict):
            raise ValueError(f"a COCO annotation file holds a JSON object, got {type(dataset).__name__}")
        self.dataset = dataset
        self.createIndex()

    def _set_native(self, cols, loader):
        self._native = cols
        self._dataset = None
        self._dataset_loader = loader
        self._index = None
        n = len(cols["img"])
        ids = cols["id"] if len(cols["id"]) == n else np.arange(1, n + 1, dtype=np.int64)
        self._columns_cache = (cols["img"], cols["cat"], cols["box"], cols["area"], cols["crowd"], cols["score"], ids)

    @property
    def dataset(self):
        if self._dataset is None:
            self._dataset = self._dataset_loader()
        return self._dataset

    @dataset.setter
    def dataset(self, value):
        self._dataset = value
        self._dataset_loader = None
        self._native = None

    # --- index (built on first use: evaluation does not need it) ---------------------------

    def createIndex(self):
        """Index self.dataset: the columnar arrays the evaluator reads are built now (as
        pycocotools builds its dicts here); the dict indexes (anns, imgToAnns, ...) when first
        used. A dataset the evaluator cannot read (no 'bbox', say) is still indexed; evaluate()
        then says what is missing."""
        self._index = None
        self._columns_cache = None
        self._rle_cache = None
        self._rle_set_cache = None
        try:
            self._columns(self._is_result)
        except ValueError:
            self._columns_cache = None

    def _build_index(self):
        anns, cats, imgs = {}, {}, {}
        img_to_anns, cat_to_imgs = defaultdict(list), defaultdict(list)
        for ann in self.dataset.get("annotations", []):
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
        for img in self.dataset.get("images", []):
            imgs[img["id"]] = img
        for cat in self.dataset.get("categories", []):
            cats[cat["id"]] = cat
        if "annotations" in self.dataset and "categories" in self.dataset:
            for ann in self.dataset["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        self._index = (anns, cats, imgs, img_to_anns, cat_to_imgs)

    def _idx(self, i):
        if self._index is None:
            self._build_index()
        return self._index[i]

    anns = property(lambda self: self._idx(0))
    cats = property(lambda self: self._idx(1))
    imgs = property(lambda self: self._idx(2))
    imgToAnns = property(lambda self: self._idx(3))
    catToImgs = property(lambda self: self._idx(4))

    def info(self):
        for key, value in self.dataset.get("info", {}).items():
            print(f"{key}: {value}")

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):  # noqa: B006 (pycocotools' signature)
        imgIds = imgIds if _is_list(imgIds) else [imgIds]
        catIds = catIds if _is_list(catIds) else [catIds]
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset.get("annotations", [])
        else:
            if len(imgIds) != 0:
                lists = [self.imgToAnns[i] for i in imgIds if i in self.imgToAnns]
                anns = list(itertools.chain.from_iterable(lists))
            else:
                anns = self.dataset.get("annotations", [])
            if len(catIds) != 0:
                wanted = set(catIds)
                anns = [a for a in anns if a["category_id"] in wanted]
            if len(areaRng) != 0:
                anns = [a for a in anns if areaRng[0] < a["area"] < areaRng[1]]
        if iscrowd is not None:
            return [a["id"] for a in anns if a.get("iscrowd", 0) == iscrowd]
        return [a["id"] for a in anns]

    def getCatIds(self, catNms=[], supNms=[], catIds=[]):  # noqa: B006
        catNms = catNms if _is_list(catNms) else [catNms]
        supNms = supNms if _is_list(supNms) else [supNms]
        catIds = catIds if _is_list(catIds) else [catIds]
        if self._native is not None and len(catNms) == len(supNms) == len(catIds) == 0 and not self._is_result:
            return [int(c) for c in self._native["category_ids"]]
        cats = self.dataset.get("categories", [])
        if len(catNms) != 0:
            cats = [c for c in cats if c["name"] in catNms]
        if len(supNms) != 0:
            cats = [c for c in cats if c["supercategory"] in supNms]
        if len(catIds) != 0:
            cats = [c for c in cats if c["id"] in catIds]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds=[], catIds=[]):  # noqa: B006
        imgIds = imgIds if _is_list(imgIds) else [imgIds]
        catIds = catIds if _is_list(catIds) else [catIds]
        if len(imgIds) == len(catIds) == 0:
            if self._native is not None and not self._is_result:
                return [int(i) for i in dict.fromkeys(self._native["image_ids"].tolist())]
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, cat in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[cat])
            else:
                ids &= set(self.catToImgs[cat])
        return list(ids)

    def _load(self, table, ids):
        if _is_list(ids):
            return [table[i] for i in ids]
        if isinstance(ids, (int, np.integer)):
            return [table[ids]]
        return []

    def loadAnns(self, ids=[]):  # noqa: B006
        return self._load(self.anns, ids)

    def loadCats(self, ids=[]):  # noqa: B006
        return self._load(self.cats, ids)

    def loadImgs(self, ids=[]):  # noqa: B006
        return self._load(self.imgs, ids)

    # --- results ---------------------------------------------------------------------------

    def loadRes(self, resFile):
        """Load detections (a JSON path, a list of dicts, or an (N, 7) array of
        [image_id, x, y, w, h, score, category_id]) as a COCO object, as pycocotools does:
        bbox results get area w*h, id 1..N and iscrowd 0."""
        if isinstance(resFile, (str, os.PathLike)):
            path = os.fspath(resFile)
            cols = _C.read_coco_json(path, True)
            if isinstance(cols, dict):
                self._check_result_images(np.unique(cols["img"]).tolist())
                res = COCO()
                res._is_result = True

                def load():
                    anns = _load_json(path)
                    return self._result_dataset(anns)

                res._set_native(cols, load)
                return res
            anns = _load_json(path)
        elif isinstance(resFile, np.ndarray):
            anns = self.loadNumpyAnnotations(resFile)
        else:
            anns = resFile
        if not isinstance(anns, list):
            raise ValueError(f"results must be a list of objects, got {type(anns).__name__}")
        if anns and not all(isinstance(a, dict) for a in anns[:1]):
            raise ValueError("results must be a list of objects (dicts)")
        try:
            res_imgs = set(map(itemgetter("image_id"), anns))
        except KeyError:
            bad = next(i for i, a in enumerate(anns) if "image_id" not in a)
            raise ValueError(f"result {bad} has no 'image_id'") from None
        self._check_result_images(res_imgs)
        res = COCO()
        res.dataset = self._result_dataset(anns)
        res._is_result = True
        res.createIndex()
        return res

    def _check_result_images(self, res_imgs):
        img_ids = set(self.getImgIds())
        unknown = set(res_imgs) - img_ids
        if unknown:
            raise ValueError(f"results refer to images not in the ground truth, e.g. image_id {sorted(unknown, key=str)[0]!r}")

    def _result_dataset(self, anns):
        """pycocotools' loadRes bookkeeping on a list of result dicts."""
        dataset = {"images": list(self.dataset.get("images", []))}
        if anns and "bbox" in anns[0] and anns[0]["bbox"] != []:
            dataset["categories"] = copy.deepcopy(self.dataset.get("categories", []))
            for i, ann in enumerate(anns):
                bb = ann.get("bbox")
                if bb is None or len(bb) != 4:
                    raise ValueError(f"result {i} needs a 'bbox' [x, y, w, h], got {bb!r}")
                if "segmentation" not in ann:
                    x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
                    ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
                ann["area"] = bb[2] * bb[3]
                ann["id"] = i + 1
                ann["iscrowd"] = 0
        elif anns and "segmentation" in anns[0]:
            from . import mask as mask_utils

            dataset["categories"] = copy.deepcopy(self.dataset.get("categories", []))
            for i, ann in enumerate(anns):
                segm = ann["segmentation"]
                if not isinstance(segm, dict) or isinstance(segm.get("counts"), list):
                    raise ValueError(f"result {i}: segmentation results must be compressed RLEs "
                                     "({'size': [h, w], 'counts': bytes}), as in pycocotools")
                ann["area"] = mask_utils.area(segm)
                if "bbox" not in ann:
                    ann["bbox"] = mask_utils.toBbox(segm)
                ann["id"] = i + 1
                ann["iscrowd"] = 0
        elif anns:
            raise ValueError("results need a 'bbox' (keypoint and caption results are not supported)")
        dataset["annotations"] = anns
        return dataset

    def loadNumpyAnnotations(self, data):
        """(N, 7) array of [image_id, x, y, w, h, score, category_id] -> list of result dicts."""
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] != 7:
            raise ValueError(f"numpy results must have shape (N, 7), got {data.shape}")
        return [
            {"image_id": int(r[0]), "bbox": [float(r[1]), float(r[2]), float(r[3]), float(r[4])], "score": float(r[5]),
             "category_id": int(r[6])}
            for r in data
        ]

    def annToRLE(self, ann):
        """The annotation's segmentation as a compressed RLE (polygons are rasterized and
        merged, uncompressed RLE compressed), as pycocotools."""
        from . import mask as mask_utils

        img = self.imgs.get(ann["image_id"])
        if img is None or "height" not in img or "width" not in img:
            raise ValueError(f"annotation {ann.get('id')!r}: image {ann['image_id']!r} has no height / width")
        h, w = img["height"], img["width"]
        segm = ann.get("segmentation")
        if segm is None:
            raise ValueError(f"annotation {ann.get('id')!r} has no 'segmentation'")
        if isinstance(segm, list):
            return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
        if isinstance(segm.get("counts"), list):
            return mask_utils.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann):
        """The annotation's segmentation as an (h, w) uint8 mask."""
        from . import mask as mask_utils

        return mask_utils.decode(self.annToRLE(ann))

    def _rles(self):
        """(h, w, counts) of every annotation's segmentation, dataset order; cached."""
        if getattr(self, "_rle_cache", None) is None:
            from .mask import _obj

            self._rle_cache = [_obj(self.annToRLE(a), i) for i, a in enumerate(self.dataset.get("annotations", []))]
        return self._rle_cache

    def _rle_set(self):
        """The segmentations parsed in C++ (once per COCO object, like pycocotools' own
        conversion of segmentations at evaluation), for the evaluator."""
        if getattr(self, "_rle_set_cache", None) is None:
            self._rle_set_cache = _C.RleSet(self._rles())
        return self._rle_set_cache

    # --- columnar view for the evaluator ---------------------------------------------------

    def _columns(self, is_result):
        """(image_id, category_id, bbox (N,4), area, iscrowd, score, id) arrays of the
        annotations, in dataset order; cached until createIndex()."""
        if self._columns_cache is not None:
            return self._columns_cache
        anns = self.dataset.get("annotations", [])
        n = len(anns)
        side = "result" if is_result else "annotation"

        def column(key, dtype, default=None):
            try:
                if default is None:
                    return np.fromiter(map(itemgetter(key), anns), dtype=dtype, count=n)
                return np.fromiter((a.get(key, default) for a in anns), dtype=dtype, count=n)
            except KeyError:
                bad = next(i for i, a in enumerate(anns) if key not in a)
                raise ValueError(f"{side} {bad} has no {key!r}") from None
            except (TypeError, ValueError) as e:
                raise ValueError(f"{side}s: {key!r} must be numbers ({e})") from None

        img = _id_column(anns, "image_id", side)
        cat = _id_column(anns, "category_id", side)
        try:
            boxes = np.fromiter(itertools.chain.from_iterable(map(itemgetter("bbox"), anns)), dtype=np.float64)
        except KeyError:
            bad = next(i for i, a in enumerate(anns) if "bbox" not in a)
            raise ValueError(f"{side} {bad} has no 'bbox'") from None
        if boxes.size != 4 * n:
            bad = next(i for i, a in enumerate(anns) if len(a["bbox"]) != 4)
            raise ValueError(f"{side} {bad}: 'bbox' must be [x, y, w, h], got {anns[bad]['bbox']!r}")
        boxes = boxes.reshape(n, 4)
        if n and ((boxes[:, 2] < 0) | (boxes[:, 3] < 0)).any():
            bad = int(np.flatnonzero((boxes[:, 2] < 0) | (boxes[:, 3] < 0))[0])
            raise ValueError(f"{side} {bad}: 'bbox' has a negative width or height: {anns[bad]['bbox']!r}")
        if n and not np.isfinite(boxes).all():
            bad = int(np.flatnonzero(~np.isfinite(boxes).all(1))[0])
            raise ValueError(f"{side} {bad}: 'bbox' is not finite: {anns[bad]['bbox']!r}")
        area = column("area", np.float64)
        crowd = column("iscrowd", np.uint8, default=0)
        score = column("score", np.float64) if is_result else np.zeros(n)
        if is_result and n and np.isnan(score).any():
            bad = int(np.flatnonzero(np.isnan(score))[0])
            raise ValueError(f"result {bad} has a NaN 'score'")
        ids = _id_column(anns, "id", side)
        self._columns_cache = (img, cat, boxes, area, crowd, score, ids)
        return self._columns_cache


def _id_column(anns, key, side):
    """The ids as int64 when they are integers (the usual case: vectorized lookups), else as
    objects."""
    try:
        vals = list(map(itemgetter(key), anns))
    except KeyError:
        bad = next(i for i, a in enumerate(anns) if key not in a)
        raise ValueError(f"{side} {bad} has no {key!r}") from None
    if all(type(v) is int for v in vals):
        try:
            return np.array(vals, dtype=np.int64)
        except OverflowError:
            pass
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out


def _positions(col, ids):
    """Index of each value of col in the sorted unique list ids, -1 when absent."""
    ids_arr = np.asarray(ids)
    if col.dtype == np.int64 and ids_arr.dtype.kind in "iu" and len(ids_arr):
        pos = np.searchsorted(ids_arr, col)
        pos_c = np.minimum(pos, len(ids_arr) - 1)
        return np.where(ids_arr[pos_c] == col, pos_c, -1).astype(np.int64)
    index = {v: i for i, v in enumerate(ids)}
    return np.fromiter((index.get(v, -1) for v in col), dtype=np.int64, count=len(col))


def _copy_params(p):
    """A copy of Params whose lists and arrays are not shared (deepcopy, without its cost on
    thousands of image ids)."""
    q = copy.copy(p)
    for name, value in vars(p).items():
        if isinstance(value, np.ndarray):
            setattr(q, name, value.copy())
        elif isinstance(value, list):
            setattr(q, name, [list(v) if isinstance(v, list) else v for v in value])
    return q


def _load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None


def _is_list(x):
    return hasattr(x, "__iter__") and not isinstance(x, (str, bytes, dict))


class Params:
    """pycocotools' evaluation parameters (iouType "bbox")."""

    def __init__(self, iouType="segm"):
        if iouType not in ("segm", "bbox", "keypoints"):
            raise ValueError(f"iouType must be 'segm', 'bbox' or 'keypoints', got {iouType!r}")
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1
        self.iouType = iouType
        self.useSegm = None


class COCOeval:
    """pycocotools.cocoeval.COCOeval: evaluate(), accumulate(), summarize(), .params, .eval,
    .stats, .evalImgs (built when first read), .ious. Plus ap_per_class(), per_class_table(),
    pr_curve() and plot_pr().

    Args:
        cocoGt, cocoDt: COCO objects (ground truth, results from loadRes).
        iouType: "bbox" or "segm" (the default, as in pycocotools).
    """

    def __init__(self, cocoGt=None, cocoDt=None, iouType="segm"):
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.params = Params(iouType=iouType)
        self.eval = {}
        self._paramsEval = {}
        self.stats = []
        self._ev = None
        self._evalImgs = None
        self._ious = None
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # --- evaluate --------------------------------------------------------------------------

    def evaluate(self):
        """Match detections to ground truth for every image, category, area range and IoU
        threshold (pycocotools' evaluateImg), in C++ on the thread pool."""
        p = self.params
        if p.iouType not in ("bbox", "segm"):
            raise NotImplementedError(f"iouType {p.iouType!r} is not implemented; use 'bbox' or 'segm'")
        if self.cocoGt is None or self.cocoDt is None:
            raise ValueError("COCOeval needs cocoGt and cocoDt")
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        area_rng = np.asarray(p.areaRng, dtype=np.float64).reshape(-1, 2)
        sides = []
        for coco, is_result in ((self.cocoGt, False), (self.cocoDt, True)):
            img, cat, boxes, area, crowd, score, _ = coco._columns(is_result)
            ii = _positions(img, p.imgIds)
            kk = _positions(cat, p.catIds)
            keep = (ii >= 0) & (kk >= 0)
            if p.useCats and keep.all():  # the usual case: every annotation, no copies
                sides.append((slice(None), ii, kk, boxes, area, crowd, score))
                continue
            sel = np.flatnonzero(keep)
            if p.useCats:
                kcol = kk[sel]
            else:
                # pycocotools lists an image's annotations category by category
                sel = sel[np.argsort(kk[sel], kind="stable")]
                kcol = np.zeros(len(sel), dtype=np.int64)
            sides.append((sel, ii[sel], kcol, boxes[sel], area[sel], crowd[sel], score[sel]))
        (gsel, gi, gk, gb, ga, gc, _), (dsel, di, dk, db, da, _, ds) = sides
        self._gt_sel, self._dt_sel = gsel, dsel
        K = len(p.catIds) if p.useCats else 1
        _threads.sync()
        self._ev = _C.CocoEval(list(map(float, p.iouThrs)), list(map(float, p.recThrs)), area_rng,
                               [int(m) for m in p.maxDets], len(p.imgIds), K, gi, gk, gb, ga, gc, di, dk, db, da, ds)
        if p.iouType == "segm":
            g_set, d_set = self.cocoGt._rle_set(), self.cocoDt._rle_set()
            index = lambda n, sel: np.arange(n, dtype=np.int64)[sel]  # noqa: E731
            self._ev.set_masks(g_set, index(len(g_set), gsel), d_set, index(len(d_set), dsel))
        self._ev.evaluate()
        self._paramsEval = _copy_params(p)
        self._evalImgs = None
        self._ious = None

    # --- accumulate ------------------------------------------------------------------------

    def accumulate(self, p=None):
        """Precision / recall / scores arrays, pycocotools' self.eval."""
        if self._ev is None:
            raise RuntimeError("call evaluate() before accumulate()")
        if p is None:
            p = self.params
        pe = self._paramsEval
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        eval_cats = list(pe.catIds) if pe.useCats else [-1]
        cat_pos = {c: k for k, c in enumerate(eval_cats)}
        area_pos = {tuple(a): i for i, a in enumerate(map(tuple, pe.areaRng))}
        img_pos = {im: i for i, im in enumerate(pe.imgIds)}
        k_list = [cat_pos[c] if pe.useCats else 0 for c in p.catIds if c in cat_pos]
        a_list = [area_pos[tuple(a)] for a in p.areaRng if tuple(a) in area_pos]
        m_list = [m for m in p.maxDets if m in set(pe.maxDets)]
        i_list = [img_pos[i] for i in p.imgIds if i in img_pos]
        precision, recall, scores = self._ev.accumulate(k_list, a_list, m_list, i_list)
        T, R = len(p.iouThrs), len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A, M = len(p.areaRng), len(p.maxDets)
        if precision.shape != (T, R, K, A, M):  # some requested entries were not evaluated
            full_p = -np.ones((T, R, K, A, M))
            full_r = -np.ones((T, K, A, M))
            full_s = -np.ones((T, R, K, A, M))
            k_n, a_n, m_n = precision.shape[2:]
            full_p[:, :, :k_n, :a_n, :m_n] = precision
            full_r[:, :k_n, :a_n, :m_n] = recall
            full_s[:, :, :k_n, :a_n, :m_n] = scores
            precision, recall, scores = full_p, full_r, full_s
        self.eval = {
            "params": p,
            "counts": [T, R, K, A, M],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }

    # --- summarize -------------------------------------------------------------------------

    def summarize(self):
        """Print and return pycocotools' twelve summary numbers (self.stats)."""
        if not self.eval:
            raise RuntimeError("call accumulate() before summarize()")
        p = self.params
        max_dets = list(p.maxDets)

        def _summarize(ap=1, iouThr=None, areaRng="all", maxDets=100):
            iStr = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
            titleStr = "Average Precision" if ap == 1 else "Average Recall"
            typeStr = "(AP)" if ap == 1 else "(AR)"
            iouStr = (f"{p.iouThrs[0]:0.2f}:{p.iouThrs[-1]:0.2f}" if iouThr is None else f"{iouThr:0.2f}")
            aind = [i for i, aRng in enumerate(p.areaRngLbl) if aRng == areaRng]
            mind = [i for i, mDet in enumerate(p.maxDets) if mDet == maxDets]
            if ap == 1:
                s = self.eval["precision"]
                if iouThr is not None:
                    s = s[np.where(iouThr == p.iouThrs)[0]]
                s = s[:, :, :, aind, mind]
            else:
                s = self.eval["recall"]
                if iouThr is not None:
                    s = s[np.where(iouThr == p.iouThrs)[0]]
                s = s[:, :, aind, mind]
            mean_s = -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])
            print(iStr.format(titleStr, typeStr, iouStr, areaRng, maxDets, mean_s))
            return mean_s

        def md(i):  # pycocotools indexes maxDets[0..2]; tolerate fewer
            return max_dets[min(i, len(max_dets) - 1)]

        stats = np.zeros((12,))
        stats[0] = _summarize(1, maxDets=max_dets[-1])
        stats[1] = _summarize(1, iouThr=0.5, maxDets=md(2))
        stats[2] = _summarize(1, iouThr=0.75, maxDets=md(2))
        stats[3] = _summarize(1, areaRng="small", maxDets=md(2))
        stats[4] = _summarize(1, areaRng="medium", maxDets=md(2))
        stats[5] = _summarize(1, areaRng="large", maxDets=md(2))
        stats[6] = _summarize(0, maxDets=md(0))
        stats[7] = _summarize(0, maxDets=md(1))
        stats[8] = _summarize(0, maxDets=md(2))
        stats[9] = _summarize(0, areaRng="small", maxDets=md(2))
        stats[10] = _summarize(0, areaRng="medium", maxDets=md(2))
        stats[11] = _summarize(0, areaRng="large", maxDets=md(2))
        self.stats = stats
        return stats

    def __str__(self):
        self.summarize()
        return ""

    # --- pycocotools' per-image views, built on request ------------------------------------

    @property
    def evalImgs(self):
        """pycocotools' evalImgs: one dict (or None) per (category, area range, image)."""
        if self._ev is None:
            return []
        if self._evalImgs is None:
            self._evalImgs = self._build_eval_imgs()
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._evalImgs = value

    def _build_eval_imgs(self):
        p = self._paramsEval
        gt_ids = self.cocoGt._columns(False)[6][self._gt_sel]
        dt_cols = self.cocoDt._columns(True)
        dt_ids = dt_cols[6][self._dt_sel]
        dt_scores = dt_cols[5][self._dt_sel]
        cat_ids = p.catIds if p.useCats else [-1]
        max_det = p.maxDets[-1]
        out = []
        for k, cat in enumerate(cat_ids):
            for a, rng in enumerate(p.areaRng):
                for i, img in enumerate(p.imgIds):
                    g = self._ev.group(k, i, a)
                    if g is None:
                        out.append(None)
                        continue
                    dets, gts, match, dig, gig = g
                    order = np.argsort(gig, kind="stable")  # ignored ground truth last
                    pos = np.empty_like(order)
                    pos[order] = np.arange(len(order))
                    T, D = match.shape
                    dtm = np.zeros((T, D))
                    gtm = np.zeros((T, len(gts)))
                    for t in range(T):
                        for d in range(D):
                            m = match[t, d]
                            if m >= 0:
                                dtm[t, d] = gt_ids[gts[m]]
                                gtm[t, pos[m]] = dt_ids[dets[d]]
                    out.append({
                        "image_id": img, "category_id": cat, "aRng": rng, "maxDet": max_det,
                        "dtIds": [dt_ids[d] for d in dets], "gtIds": [gt_ids[gts[j]] for j in order],
                        "dtMatches": dtm, "gtMatches": gtm, "dtScores": [float(dt_scores[d]) for d in dets],
                        "gtIgnore": gig[order].astype(bool).astype(int), "dtIgnore": dig.astype(bool),
                    })
        return out

    @property
    def ious(self):
        """pycocotools' ious: {(imgId, catId): (D, G) IoU matrix} for groups with both."""
        if self._ev is None:
            return {}
        if self._ious is None:
            p = self._paramsEval
            gb = self.cocoGt._columns(False)[2][self._gt_sel]
            gc = self.cocoGt._columns(False)[4][self._gt_sel]
            db = self.cocoDt._columns(True)[2][self._dt_sel]
            cat_ids = p.catIds if p.useCats else [-1]
            ious = {}
            for k, cat in enumerate(cat_ids):
                for i, img in enumerate(p.imgIds):
                    g = self._ev.group(k, i, 0)
                    if g is None:
                        ious[img, cat] = []
                        continue
                    dets, gts = g[0], g[1]
                    if not (len(dets) and len(gts)):
                        ious[img, cat] = []
                    elif p.iouType == "segm":
                        gr = self.cocoGt._rles()
                        dr = self.cocoDt._rles()
                        gs = np.arange(len(gr))[self._gt_sel][gts]
                        ds = np.arange(len(dr))[self._dt_sel][dets]
                        ious[img, cat] = _C.rle_iou([dr[i] for i in ds], [gr[i] for i in gs], [int(v) for v in gc[gts]])
                    else:
                        ious[img, cat] = _C.bbox_iou_xywh(db[dets], gb[gts], gc[gts])
            self._ious = ious
        return self._ious

    # --- beyond pycocotools ----------------------------------------------------------------

    def _area_m(self, areaRng, maxDets):
        p = self.eval["params"] if self.eval else self.params
        a = p.areaRngLbl.index(areaRng)
        m = p.maxDets.index(maxDets if maxDets is not None else p.maxDets[-1])
        return p, a, m

    def ap_per_class(self, iouThr=None, areaRng="all", maxDets=None):
        """{category_id: AP} averaged over the IoU thresholds (or at iouThr), as summarize()
        computes stats[0] for one class; -1 for a class without ground truth."""
        if not self.eval:
            raise RuntimeError("call accumulate() before ap_per_class()")
        p, a, m = self._area_m(areaRng, maxDets)
        s = self.eval["precision"]
        if iouThr is not None:
            s = s[np.where(np.isclose(p.iouThrs, iouThr))[0]]
        out = {}
        for k, cat in enumerate(p.catIds):
            v = s[:, :, k, a, m]
            out[cat] = float(np.mean(v[v > -1])) if (v > -1).any() else -1.0
        return out

    def per_class_table(self, iouThr=None, areaRng="all", maxDets=None):
        """A text table of AP per class (names from the ground truth categories)."""
        ap = self.ap_per_class(iouThr, areaRng, maxDets)
        names = {c["id"]: c.get("name", str(c["id"])) for c in self.cocoGt.dataset.get("categories", [])}
        width = max([len("category")] + [len(str(names.get(c, c))) for c in ap])
        lines = [f"{'category':<{width}}  {'AP':>6}", "-" * (width + 8)]
        for cat, v in ap.items():
            lines.append(f"{str(names.get(cat, cat)):<{width}}  {v:6.3f}" if v >= 0 else f"{str(names.get(cat, cat)):<{width}}  {'-':>6}")
        return "\n".join(lines)

    def pr_curve(self, catId=None, iouThr=0.5, areaRng="all", maxDets=None):
        """(recall thresholds (R,), precision (R,)) at one IoU threshold, for one category
        or averaged over the categories that have ground truth (catId=None)."""
        if not self.eval:
            raise RuntimeError("call accumulate() before pr_curve()")
        p, a, m = self._area_m(areaRng, maxDets)
        t = int(np.where(np.isclose(p.iouThrs, iouThr))[0][0])
        prec = self.eval["precision"][t, :, :, a, m]  # (R, K)
        if catId is not None:
            return np.asarray(p.recThrs), prec[:, p.catIds.index(catId)]
        valid = (prec > -1).all(axis=0)
        mean = prec[:, valid].mean(axis=1) if valid.any() else np.full(len(p.recThrs), -1.0)
        return np.asarray(p.recThrs), mean

    def plot_pr(self, path, catIds=None, iouThrs=(0.5, 0.75), areaRng="all", maxDets=None):
        """Save precision-recall curves to an image file (needs matplotlib)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("plot_pr needs matplotlib (pip install matplotlib)") from e
        fig, ax = plt.subplots(figsize=(6, 5))
        for thr in iouThrs:
            for cat in catIds or [None]:
                r, pr = self.pr_curve(cat, thr, areaRng, maxDets)
                label = f"IoU={thr:.2f}" + ("" if cat is None else f" cat={cat}")
                ax.plot(r, np.clip(pr, 0, None), label=label)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.set_title("precision-recall (mean over classes)" if not catIds else "precision-recall")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
