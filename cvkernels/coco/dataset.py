"""COCO: a dataset or a result set with pycocotools.coco.COCO's interface; files are read by the
C++ JSON reader where it can, and the evaluator reads the annotations as named columns."""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections import defaultdict
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from .. import _C


class Columns(NamedTuple):
    """The annotations of a COCO object as arrays, in dataset order (what the evaluator reads)."""

    image_id: np.ndarray  # int64, or object for non-integer ids
    category_id: np.ndarray
    bbox: np.ndarray  # float64 (N, 4) as [x, y, w, h]
    area: np.ndarray  # float64
    iscrowd: np.ndarray  # uint8
    score: np.ndarray  # float64 (zeros for ground truth)
    id: np.ndarray


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
        self._columns_cache = Columns(cols["img"], cols["cat"], cols["box"], cols["area"], cols["crowd"],
                                      cols["score"], ids)

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
            from .. import mask as mask_utils

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
        from .. import mask as mask_utils

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
        from .. import mask as mask_utils

        return mask_utils.decode(self.annToRLE(ann))

    def _rles(self):
        """(h, w, counts) of every annotation's segmentation, dataset order; cached."""
        if getattr(self, "_rle_cache", None) is None:
            from ..mask import _obj

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
        """The annotations as Columns (dataset order); cached until createIndex()."""
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
        self._columns_cache = Columns(img, cat, boxes, area, crowd, score, ids)
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


def _load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None


def _is_list(x):
    return hasattr(x, "__iter__") and not isinstance(x, (str, bytes, dict))
