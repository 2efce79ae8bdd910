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
    bbox: np.ndarray  # float64 (N, 4) as [x, y, w, h]; NaN rows where an annotation has none
    area: np.ndarray  # float64
    iscrowd: np.ndarray  # uint8 (1 where 'iscrowd' is truthy)
    score: np.ndarray  # float64 (zeros for ground truth)
    id: np.ndarray
    no_bbox: int = -1  # the first annotation without a 'bbox' (only segm evaluation works then)


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
        self._native_rle_set = None  # segmentations parsed by loadRes' list reader
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
        self._native_rle_set = None
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
        """Index self.dataset. As in pycocotools, evaluate() reads the annotations' fields when
        it runs, so edits to the dicts after createIndex() or loadRes() are honoured; the dict
        indexes (anns, imgToAnns, ...) are built when first used."""
        self._index = None
        self._columns_cache = None
        self._rle_cache = None
        self._rle_set_cache = None
        if not isinstance(self.dataset, dict):
            raise ValueError(f"a COCO dataset is a dict, got {type(self.dataset).__name__}")
        for key in ("images", "annotations", "categories"):
            if key in self.dataset and not isinstance(self.dataset[key], list):
                raise ValueError(f"dataset[{key!r}] must be a list, got {type(self.dataset[key]).__name__}")

    def _build_index(self):
        ds = self.dataset
        anns = _by_id(ds.get("annotations", []), "annotation")
        imgs = _by_id(ds.get("images", []), "image")
        cats = _by_id(ds.get("categories", []), "category")
        img_to_anns, cat_to_imgs = defaultdict(list), defaultdict(list)
        for i, ann in enumerate(ds.get("annotations", [])):
            for key in ("image_id", "category_id"):
                if not isinstance(ann.get(key), (int, str, float)):
                    raise ValueError(f"annotation {i}: {key!r} must be an integer or a string, got {ann.get(key)!r:.80}")
            img_to_anns[ann["image_id"]].append(ann)
            if "categories" in ds:
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
                ids = self._native["image_ids"]
                if ids.dtype.kind in "iu":  # tolist gives Python ints already
                    return list(dict.fromkeys(ids.tolist()))
                return [int(i) for i in dict.fromkeys(ids.tolist())]
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
        """Load detections (a JSON path, a list of dicts, an (N, 7) array of
        [image_id, x, y, w, h, score, category_id], or columns: a dict of arrays or tensors
        "image_id", "category_id", "score", and "bbox" (N, 4) as [x, y, w, h] and / or masks:
        "masks" (N, H, W) (bool, uint8, ...: nonzero is foreground) or "segmentation" (a list of
        N compressed RLEs)) as a COCO object, as pycocotools does: bbox results get area w*h,
        id 1..N and iscrowd 0; mask results without "bbox" get the mask's area and box. The
        result dicts get those keys (and a box polygon as 'segmentation') when res.dataset is
        first used, not at once."""
        if isinstance(resFile, (str, os.PathLike)):
            path = os.fspath(resFile)
            cols = _C.read_coco_json(path, True)
            if isinstance(cols, dict):
                self._check_result_images(cols["img"])
                return _native_result(cols, lambda: self._result_dataset(_load_json(path)))
            anns = _load_json(path)
        elif isinstance(resFile, np.ndarray) or isinstance(resFile, dict):
            # an (N, 7) array, or columns {"image_id", "category_id", "bbox" (N, 4) xywh, "score"}
            # (numpy arrays or tensors): straight to the evaluator's columns, no dicts
            cols = _array_result_columns(resFile)
            rle_set, rles = None, None
            if isinstance(resFile, dict) and ("masks" in resFile or "segmentation" in resFile):
                rle_set, rles = _mask_columns(resFile, cols)
            self._check_result_images(cols["img"])
            return _native_result(cols, lambda: self._result_dataset(_result_dicts(cols, rles)), rle_set)
        else:
            anns = resFile
        if not isinstance(anns, list):
            raise ValueError(f"results must be a list of objects, got {type(anns).__name__}")
        fast = _C.box_results_from_list(anns)  # plain box results: read in C++, no per-result objects
        if fast is not None and anns:
            img, cat, boxes, score, sane = fast
            if not sane:  # say which value is wrong
                _check_box_values(boxes, anns, "result")
                _checked_scores(score)
            self._check_result_images(img)
            return _native_result(_box_columns(img, cat, boxes, score), lambda: self._result_dataset(anns))
        if anns and type(anns[0]) is dict and "bbox" not in anns[0]:
            fast = _C.segm_results_from_list(anns)  # compressed-RLE results: parsed in C++ once
            if fast is not None:
                img, cat, score, area, boxes, rle_set = fast
                self._check_result_images(img)
                cols = _box_columns(img, cat, boxes, _checked_scores(score))
                cols["area"] = area
                return _native_result(cols, lambda: self._result_dataset(anns), rle_set)
        if not all(isinstance(a, dict) for a in anns):
            bad = next(i for i, a in enumerate(anns) if not isinstance(a, dict))
            raise ValueError(f"result {bad} is a {type(anns[bad]).__name__}, not an object")
        img = _id_column(anns, "image_id", "result")
        self._check_result_images(img)
        res = COCO()
        res._is_result = True
        if anns and _has_box(anns[0]):
            # Box results: the columns straight from the list; pycocotools' bookkeeping on the
            # dicts (area, id, iscrowd, a box polygon) is done when res.dataset is first used.
            res._set_native(_box_result_columns(anns, img), lambda: self._result_dataset(anns))
            return res
        res.dataset = self._result_dataset(anns)
        res.createIndex()
        return res

    def _sorted_id_column(self):
        """The image ids getImgIds() lists, sorted, as an array, where they are an integer
        column (None otherwise): no list of them in between."""
        native = self._native["image_ids"] if self._native is not None and not self._is_result else None
        return np.unique(native) if native is not None and native.dtype.kind in "iu" else None

    def _sorted_img_ids(self):
        """sorted(self.getImgIds())."""
        ids = self._sorted_id_column()
        return ids.tolist() if ids is not None else sorted(self.getImgIds())

    def _check_result_images(self, img):
        """Every result's image_id (a column) is an image of this ground truth."""
        from .evaluator import _positions

        ids = self._sorted_id_column()
        if ids is not None and img.dtype.kind in "iu" and (_positions(img, ids) >= 0).all():
            return
        ids = self.getImgIds()
        try:
            ids = sorted(ids)
        except TypeError:  # mixed id types: no sorted lookup
            pass
        else:
            pos = _positions(img, ids)
            if (pos >= 0).all():
                return
        unknown = set(img.tolist()) - set(ids)
        if unknown:
            raise ValueError(f"results refer to images not in the ground truth, e.g. image_id {sorted(unknown, key=str)[0]!r}")

    def _result_dataset(self, anns):
        """pycocotools' loadRes bookkeeping on a list of result dicts."""
        dataset = {"images": list(self.dataset.get("images", []))}
        if anns and _has_box(anns[0]):
            dataset["categories"] = copy.deepcopy(self.dataset.get("categories", []))
            for i, ann in enumerate(anns):
                bb = ann.get("bbox")
                if not _is_box(bb):
                    raise ValueError(f"result {i} needs a 'bbox' [x, y, w, h] of numbers, got {bb!r:.80}")
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
                segm = ann.get("segmentation")
                if not isinstance(segm, dict) or not isinstance(segm.get("counts"), (str, bytes)):
                    raise ValueError(f"result {i}: segmentation results must be compressed RLEs "
                                     "({'size': [h, w], 'counts': bytes}), as in pycocotools")
                ann["area"] = mask_utils.area(segm)
                if "bbox" not in ann:
                    ann["bbox"] = mask_utils.toBbox(segm)
                ann["id"] = i + 1
                ann["iscrowd"] = 0
        elif anns and "keypoints" in anns[0]:
            dataset["categories"] = copy.deepcopy(self.dataset.get("categories", []))
            for i, ann in enumerate(anns):
                kp = _keypoint_row(ann.get("keypoints"), "result", i)
                x, y = kp[0::3], kp[1::3]
                if not len(x):
                    raise ValueError(f"result {i}: 'keypoints' is empty")
                x0, x1, y0, y1 = np.min(x), np.max(x), np.min(y), np.max(y)
                ann["area"] = (x1 - x0) * (y1 - y0)
                ann["id"] = i + 1
                ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]
        elif anns:
            raise ValueError("results need a 'bbox', a 'segmentation' or 'keypoints' (caption results are not supported)")
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

        if not isinstance(ann, dict):
            raise ValueError(f"an annotation is an object, got {type(ann).__name__}")
        img = self.imgs.get(ann.get("image_id"))
        if img is None or "height" not in img or "width" not in img:
            raise ValueError(f"annotation {ann.get('id')!r}: image {ann.get('image_id')!r} has no height / width")
        h, w = img["height"], img["width"]
        if not all(type(v) is int and 0 <= v < 2**31 for v in (h, w)):
            raise ValueError(f"image {ann.get('image_id')!r}: 'height' and 'width' must be integers in [0, 2^31), "
                             f"got {h!r} and {w!r}")
        segm = ann.get("segmentation")
        if segm is None:
            raise ValueError(f"annotation {ann.get('id')!r} has no 'segmentation'")
        if isinstance(segm, list):
            return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
        if not isinstance(segm, dict) or "counts" not in segm or "size" not in segm:
            raise ValueError(f"annotation {ann.get('id')!r}: 'segmentation' must be polygons or an RLE "
                             f"{{'size', 'counts'}}, got {segm!r:.80}")
        if isinstance(segm["counts"], list):
            return mask_utils.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann):
        """The annotation's segmentation as an (h, w) uint8 mask."""
        from .. import mask as mask_utils

        return mask_utils.decode(self.annToRLE(ann))

    def _rles(self):
        """(h, w, counts) of every annotation's segmentation, dataset order; cached."""
        anns = self.dataset.get("annotations", [])
        key = (id(anns), len(anns))
        if getattr(self, "_rle_cache", None) is None or self._rle_key != key:
            from ..mask import _obj

            self._rle_cache = [_obj(self._ann_rle(a, i), i) for i, a in enumerate(anns)]
            self._rle_set_cache = None
            self._rle_key = key
        return self._rle_cache

    def _ann_rle(self, ann, i):
        try:
            return self.annToRLE(ann)
        except ValueError as e:
            raise ValueError(f"annotation {i}: {e}") from None

    def _rle_set(self):
        """The segmentations parsed in C++ (once per COCO object, like pycocotools' own
        conversion of segmentations at evaluation), for the evaluator. Compressed RLEs are read
        straight from the dicts; polygons and run lists are converted (annToRLE) first."""
        if self._dataset is None and self._native_rle_set is not None:  # parsed by loadRes already
            return self._native_rle_set
        if self._dataset is None and self._native is not None:
            # Read by the fast reader, which skips segmentations: they come from a one-off load
            # of the dicts that is not kept, so evaluate() goes on using the reader's columns
            # (with self.dataset loaded it would re-read them from the dicts every time, to
            # honour edits). Asking for self.dataset later loads it, and that path takes over.
            self._native_rle_set = COCO(self._dataset_loader())._rle_set()
            return self._native_rle_set
        anns = self.dataset.get("annotations", [])
        key = (id(anns), len(anns))
        if getattr(self, "_rle_set_cache", None) is None or self._rle_set_key != key:
            fast = _C.rle_set_from_list(anns) if type(anns) is list else None
            self._rle_set_cache = fast if fast is not None else _C.RleSet(self._rles())
            self._rle_set_key = key
        return self._rle_set_cache

    # --- columnar view for the evaluator ---------------------------------------------------

    def _keypoints(self, K, is_result):
        """(N, 3K) float64 keypoints of every annotation (dataset order) and, for ground truth,
        the uint8 flag 'num_keypoints == 0' (pycocotools ignores those)."""
        side = "result" if is_result else "annotation"
        if self._native is not None and self._dataset is None and "kp_len" in self._native:  # the C++ reader's
            c = self._native
            lens = c["kp_len"]
            bad = np.flatnonzero(lens != 3 * K)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{side} {i} has no 'keypoints'" if lens[i] < 0 else
                                 f"{side} {i}: 'keypoints' has {lens[i]} numbers, not 3 * {K} "
                                 "(one (x, y, v) triple per kpt_oks_sigmas entry)")
            if not is_result and np.isnan(c["num_kpts"]).any():
                i = int(np.flatnonzero(np.isnan(c["num_kpts"]))[0])
                raise ValueError(f"{side} {i} has no numeric 'num_keypoints'")
            none = (c["num_kpts"] == 0).view(np.uint8) if not is_result else np.zeros(len(lens), np.uint8)
            return c["kpts"].reshape(len(lens), 3 * K), none
        anns = self.dataset.get("annotations", [])
        n = len(anns)
        rows, none = None, np.zeros(n, np.uint8)
        try:  # the usual case in one conversion; anything odd is found and named below
            rows = np.array(list(map(itemgetter("keypoints"), anns)), dtype=np.float64).reshape(n, -1)
            if not is_result:
                none = (np.fromiter(map(itemgetter("num_keypoints"), anns), dtype=np.float64, count=n) == 0).view(np.uint8)
        except (KeyError, TypeError, ValueError, OverflowError):
            rows = None
        if rows is None or rows.shape[1] != 3 * K or not np.isfinite(rows).all():
            for i, a in enumerate(anns):
                row = _keypoint_row(a.get("keypoints"), side, i)
                if len(row) != 3 * K:
                    raise ValueError(f"{side} {i}: 'keypoints' has {len(row)} numbers, not 3 * {K} "
                                     "(one (x, y, v) triple per kpt_oks_sigmas entry)")
                if not is_result and not _is_number(a.get("num_keypoints")):
                    raise ValueError(f"{side} {i} has no numeric 'num_keypoints'")
            rows = np.zeros((0, 3 * K)) if n == 0 else rows
        return rows, none

    def _columns(self, is_result):
        """The annotations as Columns (dataset order). From the fast reader while the file's
        dicts were never loaded; else read from dataset['annotations'] now, so that edits to
        the dicts are honoured (the evaluator keeps the columns of its evaluate())."""
        if self._columns_cache is not None and self._dataset is None:
            return self._columns_cache
        anns = self.dataset.get("annotations", [])
        if not isinstance(anns, list):
            raise ValueError(f"dataset['annotations'] must be a list, got {type(anns).__name__}")
        n = len(anns)
        side = "result" if is_result else "annotation"
        if n and not all(isinstance(a, dict) for a in anns):
            bad = next(i for i, a in enumerate(anns) if not isinstance(a, dict))
            raise ValueError(f"{side} {bad} is a {type(anns[bad]).__name__}, not an object")

        img = _id_column(anns, "image_id", side)
        cat = _id_column(anns, "category_id", side)
        boxes, no_bbox = _bbox_column(anns, side)
        area = _number_column(anns, "area", side)
        crowd = (_number_column(anns, "iscrowd", side, default=0) != 0).view(np.uint8)  # truthy, as pycocotools
        score = _score_column(anns) if is_result else np.zeros(n)
        ids = _id_column(anns, "id", side)
        return Columns(img, cat, boxes, area, crowd, score, ids, no_bbox)


def _number_column(anns, key, side, default=None):
    """float64 values of one numeric field (default where absent, else required), checked."""
    n = len(anns)
    try:
        if default is None:
            return np.fromiter(map(itemgetter(key), anns), dtype=np.float64, count=n)
        return np.fromiter((a.get(key, default) for a in anns), dtype=np.float64, count=n)
    except KeyError:
        bad = next(i for i, a in enumerate(anns) if key not in a)
        raise ValueError(f"{side} {bad} has no {key!r}") from None
    except (TypeError, ValueError, OverflowError):
        bad = next(i for i, a in enumerate(anns) if not _is_number(a.get(key, default)))
        raise ValueError(f"{side} {bad}: {key!r} must be a number, got {anns[bad][key]!r:.80}") from None


def _score_column(anns):
    """The results' scores (required, not NaN)."""
    return _checked_scores(_number_column(anns, "score", "result"))


def _checked_scores(score):
    if np.isnan(score).any():
        raise ValueError(f"result {int(np.flatnonzero(np.isnan(score))[0])} has a NaN 'score'")
    return score


def _array_result_columns(res):
    """Evaluator columns of results given as an (N, 7) array [image_id, x, y, w, h, score,
    category_id] (ids truncated to integers, as pycocotools' int()) or as a dict of columns."""
    def arr(name, x):
        if hasattr(x, "detach"):  # a torch tensor
            x = x.detach().cpu().numpy()
        a = np.asarray(x)
        if a.dtype.kind not in "fiub":
            raise ValueError(f"results {name!r} must be numbers, got dtype {a.dtype}")
        return a

    if isinstance(res, dict):
        missing = [k for k in ("image_id", "category_id", "score") if k not in res]
        has_masks = "masks" in res or "segmentation" in res
        if missing or not ("bbox" in res or has_masks):
            raise ValueError("column results need 'image_id', 'category_id', 'score' and 'bbox' or masks ('masks' or "
                             f"'segmentation'); missing {missing or ['bbox']}")
        if "masks" in res and "segmentation" in res:
            raise ValueError("column results take 'masks' or 'segmentation', not both")
        img, cat = arr("image_id", res["image_id"]).reshape(-1), arr("category_id", res["category_id"]).reshape(-1)
        score = arr("score", res["score"]).astype(np.float64).reshape(-1)
        # masks without boxes: a placeholder the masks' boxes replace (_mask_columns)
        box = arr("bbox", res["bbox"]).astype(np.float64) if "bbox" in res else np.zeros((len(score), 4))
        if box.ndim != 2 or box.shape[1] != 4:
            raise ValueError(f"results 'bbox' must have shape (N, 4) as [x, y, w, h], got {box.shape}")
    else:
        data = arr("array", res)
        if data.ndim != 2 or data.shape[1] != 7:
            raise ValueError(f"numpy results must have shape (N, 7), got {data.shape}")
        img, box, score, cat = data[:, 0], data[:, 1:5].astype(np.float64), data[:, 5].astype(np.float64), data[:, 6]
    n = len(box)
    if not (len(img) == len(cat) == len(score) == n):
        raise ValueError(f"result columns differ in length: {len(img)}, {len(cat)}, {n}, {len(score)}")
    for name, ids in (("image_id", img), ("category_id", cat)):
        if ids.dtype.kind == "f" and not np.isfinite(ids).all():
            raise ValueError(f"result {int(np.flatnonzero(~np.isfinite(ids))[0])}: {name!r} is not finite")
    if n and (not np.isfinite(box).all() or (box[:, 2:] < 0).any()):
        bad = int(np.flatnonzero(~np.isfinite(box).all(1) | (box[:, 2:] < 0).any(1))[0])
        raise ValueError(f"result {bad}: 'bbox' must be finite with w, h >= 0, got {box[bad].tolist()}")
    if np.isnan(score).any():
        raise ValueError(f"result {int(np.flatnonzero(np.isnan(score))[0])} has a NaN 'score'")
    box = np.ascontiguousarray(box)
    return {"img": img.astype(np.int64), "cat": cat.astype(np.int64), "box": box, "area": box[:, 2] * box[:, 3],
            "crowd": np.zeros(n, np.uint8), "score": score, "id": np.arange(1, n + 1, dtype=np.int64)}


def _result_dicts(cols, rles=None):
    """Result dicts of columns (what pycocotools' loadNumpyAnnotations would have made); with
    masks, their RLEs as "segmentation" (and "bbox" only where the columns had boxes)."""
    if rles is None:
        return [{"image_id": int(i), "bbox": b.tolist(), "score": float(s), "category_id": int(c)}
                for i, b, s, c in zip(cols["img"], cols["box"], cols["score"], cols["cat"])]
    rle_dicts, boxes_given = rles
    out = []
    for k, (i, b, s, c) in enumerate(zip(cols["img"], cols["box"], cols["score"], cols["cat"])):
        d = {"image_id": int(i), "segmentation": rle_dicts[k], "score": float(s), "category_id": int(c)}
        if boxes_given:
            d["bbox"] = b.tolist()
        out.append(d)
    return out


def _mask_columns(res, cols):
    """Masks of column results ("masks" (N, H, W) or "segmentation", N compressed RLEs) parsed
    once; without "bbox", the area and box of each result are its mask's (pycocotools' rule for
    segmentation results). Returns the parsed set and (RLE dicts, whether boxes were given)."""
    from .. import mask as mask_utils

    n = len(cols["score"])
    if "masks" in res:
        m = res["masks"]
        if hasattr(m, "detach"):
            m = m.detach().cpu().numpy()
        m = np.asarray(m)
        if m.ndim != 3 or len(m) != n:
            raise ValueError(f"results 'masks' must have shape (N, H, W) with N = {n}, got {m.shape}")
        rles = mask_utils.to_rle(m) if n else []
    else:
        rles = list(res["segmentation"])
        if len(rles) != n:
            raise ValueError(f"results 'segmentation' has {len(rles)} RLEs for {n} results")
    fast = _C.rle_columns(rles)  # plain compressed RLE dicts: parsed once, area and box from them
    if fast is not None:
        rle_set, area, box = fast
    else:
        objs = mask_utils._objs(rles)
        rle_set, area, box = _C.RleSet(objs), _C.rle_area(objs).astype(np.float64), _C.rle_to_bbox(objs)
    if "bbox" not in res and n:
        cols["box"] = np.ascontiguousarray(box)
        cols["area"] = area
    return rle_set, (rles, "bbox" in res)


def _box_result_columns(anns, img):
    """The columns loadRes' box rule gives a list of result dicts (area w*h, ids 1..N, no
    crowds), without touching the dicts."""
    boxes, no_bbox = _bbox_column(anns, "result")
    if no_bbox >= 0:
        raise ValueError(f"result {no_bbox} needs a 'bbox' [x, y, w, h] of numbers, got None")
    return _box_columns(img, _id_column(anns, "category_id", "result"), boxes, _score_column(anns))


def _native_result(cols, loader, rle_set=None):
    """A result COCO object on evaluator columns (and parsed masks); its dicts made by loader
    when res.dataset is first used."""
    res = COCO()
    res._is_result = True
    res._set_native(cols, loader)
    res._native_rle_set = rle_set
    return res


def _box_columns(img, cat, boxes, score):
    n = len(img)
    return {"img": img, "cat": cat, "box": boxes, "area": boxes[:, 2] * boxes[:, 3],
            "crowd": np.zeros(n, np.uint8), "score": score, "id": np.arange(1, n + 1, dtype=np.int64)}


def _keypoint_row(kp, side, i):
    """An annotation's 'keypoints' [x1, y1, v1, ...] as float64, checked."""
    if (not isinstance(kp, (list, tuple)) or len(kp) % 3 or not all(_is_number(v) for v in kp)
            or not np.isfinite(np.asarray(kp, dtype=np.float64)).all()):
        raise ValueError(f"{side} {i}: 'keypoints' must be a list of (x, y, v) finite numbers, got {kp!r:.80}")
    return np.asarray(kp, dtype=np.float64)


def _bbox_column(anns, side):
    """(N, 4) float64 boxes and the first annotation without one (-1 if all have one)."""
    n = len(anns)
    try:
        boxes = np.fromiter(itertools.chain.from_iterable(map(itemgetter("bbox"), anns)), dtype=np.float64)
        no_bbox = -1
    except KeyError:  # segm ground truth may have none (pycocotools does not need it then)
        no_bbox = next(i for i, a in enumerate(anns) if "bbox" not in a)
        nan4 = (np.nan,) * 4
        try:
            boxes = np.fromiter(itertools.chain.from_iterable(a.get("bbox", nan4) for a in anns), dtype=np.float64)
        except (TypeError, ValueError):
            boxes = np.zeros(0)
    except (TypeError, ValueError):
        boxes, no_bbox = np.zeros(0), -1
    if boxes.size != 4 * n:
        bad = next(i for i, a in enumerate(anns) if "bbox" in a and not _is_box(a["bbox"]))
        raise ValueError(f"{side} {bad}: 'bbox' must be [x, y, w, h] numbers, got {anns[bad]['bbox']!r}")
    boxes = boxes.reshape(n, 4)
    _check_box_values(boxes, anns, side)
    return boxes, no_bbox


def _check_box_values(boxes, anns, side):
    """No negative width or height, no infinite or NaN coordinate (where a box is given)."""
    with np.errstate(invalid="ignore"):
        neg = (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
    if neg.any():
        bad = int(np.flatnonzero(neg)[0])
        raise ValueError(f"{side} {bad}: 'bbox' has a negative width or height: {anns[bad]['bbox']!r}")
    finite = np.isfinite(boxes).all(1)
    if not finite.all():
        bad = next((int(i) for i in np.flatnonzero(~finite) if "bbox" in anns[i]), None)
        if bad is not None:
            raise ValueError(f"{side} {bad}: 'bbox' is not finite: {anns[bad]['bbox']!r}")


def _is_number(v):
    """A JSON number or boolean that a float holds (not 10**400)."""
    if not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    try:
        float(v)
    except OverflowError:
        return False
    return True


def _has_box(ann):
    """pycocotools' test for box results: a "bbox" that is not the empty list."""
    b = ann.get("bbox", [])
    return not (isinstance(b, list) and len(b) == 0)


def _is_box(b):
    return isinstance(b, (list, tuple)) and len(b) == 4 and all(_is_number(v) for v in b)


def _by_id(entries, what):
    """{entry['id']: entry}, the last one winning for a repeated id (as pycocotools)."""
    out = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("id"), (int, str, float)):
            raise ValueError(f"{what} {i} is not an object with an integer or string 'id': {e!r:.80}")
        out[e["id"]] = e
    return out


def _id_column(anns, key, side):
    """The ids as int64 when they are integers (the usual case: vectorized lookups), else as
    objects (strings, say)."""
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
    bad = next((i for i, v in enumerate(vals) if not isinstance(v, (int, str, float)) or v != v), None)
    if bad is not None:
        raise ValueError(f"{side} {bad}: {key!r} must be an integer or a string, got {vals[bad]!r:.80}")
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out


def _load_json(path):
    """Python's json (as pycocotools reads files), its errors as ValueError naming the file:
    bytes that are not UTF-8, malformed JSON and nesting too deep for the parser."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to read") from None


def _is_list(x):
    return hasattr(x, "__iter__") and not isinstance(x, (str, bytes, dict))
