"""Panoptic quality (PQ = SQ x RQ) with COCO panoptic's rules, panopticapi's interface and
numbers.

* `pq_compute(gt_json_file, pred_json_file, gt_folder=None, pred_folder=None)`: panopticapi's
  evaluation of two COCO panoptic JSON files and their PNG folders (PNGs read with Pillow, in
  parallel), returning its result dict.
* `panoptic_quality(pairs, categories)`: the same on image pairs held in memory: each pair is
  (gt_map, gt_segments_info, pred_map, pred_segments_info), maps as (H, W) integer segment ids
  or (H, W, 3) uint8 PNG colours (id = R + 256 G + 256^2 B), segments_info as in the JSON files
  (id, category_id; the ground truth's also iscrowd and area).

The rules (panopticapi's): id 0 is void; a non-crowd ground-truth segment and a predicted
segment of the same category match when their IoU, with the prediction's void pixels left out
of the union, is above 0.5; a ground-truth segment's area is its JSON `area`, a prediction's its
pixel count; unmatched predictions that lie more than half on void or on a crowd region of their
category are not false positives. PQ per class = IoU sum / (tp + fp/2 + fn/2), averaged over the
classes that have any segment, for all, things and stuff.

The per-pixel work (the pixel count of every (gt, pred) segment pair) runs in C++ over runs of
equal pairs, images in parallel (csrc/panoptic/). Where no category has a segment, the averages
are NaN (panopticapi raises ZeroDivisionError).
"""

from __future__ import annotations

import json
import os

from ._launch import panoptic as L
from ._launch.panoptic import PanopticError

OFFSET = 256 * 256 * 256
VOID = 0

__all__ = ["OFFSET", "VOID", "PanopticError", "id2rgb", "panoptic_quality", "pq_compute", "rgb2id"]


def rgb2id(color):
    """(H, W, 3) colours to (H, W) segment ids R + 256 G + 256^2 B (int64); a single colour
    [R, G, B] to an int, as panopticapi.utils.rgb2id.

    Example:
        >>> import numpy as np
        >>> from cvkernels.panoptic import rgb2id
        >>> rgb2id(np.array([[[1, 2, 0], [0, 0, 1]]], dtype=np.uint8)).tolist()
        [[513, 65536]]
    """
    import numpy as np

    if isinstance(color, np.ndarray) and color.ndim == 3:
        return L._ids(color)
    return int(color[0] + 256 * color[1] + 256 * 256 * color[2])


def id2rgb(id_map):
    """(H, W) ids to (H, W, 3) uint8 colours; an int to [R, G, B].

    Example:
        >>> from cvkernels.panoptic import id2rgb
        >>> id2rgb(65536 + 513)
        [1, 2, 1]
    """
    import numpy as np

    if isinstance(id_map, np.ndarray):
        ids = id_map.astype(np.int64)
        return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)
    return [id_map % 256, id_map // 256 % 256, id_map // 65536 % 256]


def panoptic_quality(pairs, categories):
    """Panoptic quality over image pairs held in memory.

    pairs: sequence of (gt_map, gt_segments_info, pred_map, pred_segments_info) (see the module
    docstring); categories: COCO category dicts (id, isthing), a list or {id: dict}.
    Returns panopticapi's dict: {"All" | "Things" | "Stuff": {"pq", "sq", "rq", "n"},
    "per_class": {category id: {"pq", "sq", "rq"}}}.

    Example:
        >>> import numpy as np
        >>> from cvkernels.panoptic import panoptic_quality
        >>> gt = np.array([[1, 1, 2, 2]]); pred = np.array([[5, 5, 5, 2]])
        >>> gt_info = [{"id": 1, "category_id": 1, "iscrowd": 0, "area": 2},
        ...            {"id": 2, "category_id": 2, "iscrowd": 0, "area": 2}]
        >>> pred_info = [{"id": 5, "category_id": 1}, {"id": 2, "category_id": 2}]
        >>> cats = [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]
        >>> r = panoptic_quality([(gt, gt_info, pred, pred_info)], cats)
        >>> round(r["All"]["pq"], 4), r["Things"]["n"], r["Stuff"]["n"]
        (0.3333, 1, 1)
    """
    stats = L.pq_stats(list(pairs), categories)
    results = {}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        results[name], per_class = L.pq_average(stats, categories, isthing)
        if name == "All":
            results["per_class"] = per_class
    return results


def _read_png(path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def pq_compute(gt_json_file, pred_json_file, gt_folder=None, pred_folder=None, verbose=True):
    """panopticapi.evaluation.pq_compute: PQ of the predictions in pred_json_file (and the PNGs
    in pred_folder, default: the JSON's path without ".json") against the ground truth, same
    arguments and result dict; prints panopticapi's summary table unless verbose=False. Needs
    Pillow to read the PNGs."""
    with open(gt_json_file) as f:
        gt_json = json.load(f)
    with open(pred_json_file) as f:
        pred_json = json.load(f)
    gt_folder = gt_json_file.replace(".json", "") if gt_folder is None else gt_folder
    pred_folder = pred_json_file.replace(".json", "") if pred_folder is None else pred_folder
    for folder, what in ((gt_folder, "ground truth"), (pred_folder, "predicted")):
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Folder {folder} with {what} segmentations doesn't exist")
    categories = {c["id"]: c for c in gt_json["categories"]}
    preds = {a["image_id"]: a for a in pred_json["annotations"]}
    matched = []
    for gt_ann in gt_json["annotations"]:
        if gt_ann["image_id"] not in preds:
            raise PanopticError(f"no prediction for the image with id: {gt_ann['image_id']}")
        matched.append((gt_ann, preds[gt_ann["image_id"]]))
    # PNG decoding releases the GIL: a thread pool reads the pairs in parallel.
    from concurrent.futures import ThreadPoolExecutor

    from . import get_num_threads

    def load(pair):
        gt_ann, pred_ann = pair
        return (_read_png(os.path.join(gt_folder, gt_ann["file_name"])), gt_ann["segments_info"],
                _read_png(os.path.join(pred_folder, pred_ann["file_name"])), pred_ann["segments_info"])

    with ThreadPoolExecutor(max(1, get_num_threads())) as pool:
        pairs = list(pool.map(load, matched))
    results = panoptic_quality(pairs, categories)
    if verbose:
        print("{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N"))
        print("-" * (10 + 7 * 4))
        for name in ("All", "Things", "Stuff"):
            r = results[name]
            print("{:10s}| {:5.1f}  {:5.1f}  {:5.1f} {:5d}".format(name, 100 * r["pq"], 100 * r["sq"], 100 * r["rq"],
                                                                 r["n"]))
    return results
