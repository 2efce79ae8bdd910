"""Launcher of the panoptic quality kernel (csrc/panoptic/): segment tables from COCO panoptic
segments_info lists, the maps' checks, one call into _C, and panopticapi's averages."""

from __future__ import annotations

import math

import numpy as np

from .. import _C


class PanopticError(ValueError, KeyError):
    """Bad panoptic input: a ValueError, and a KeyError as panopticapi raises for the same input."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def categories_table(categories):
    """{category id: category dict} from a list of COCO category dicts or such a dict."""
    if isinstance(categories, dict):
        return categories
    return {c["id"]: c for c in categories}


def id_map(name: str, m):
    """A (H, W) int32 / int64 id map, or a (H, W, 3) uint8 PNG colour map, as a C-contiguous
    numpy array (torch tensors are copied to the host)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(m, torch.Tensor):
        m = m.detach().cpu().numpy()
    a = np.asarray(m)
    if a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.ndim == 3 and a.shape[2] == 3 and a.dtype.kind in "iu":  # colours read with a wider dtype
        a = _ids(a)
    if a.ndim != 2 or a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a (H, W) integer id map or a (H, W, 3) uint8 colour map, got "
                         f"{a.dtype} of shape {a.shape}")
    if a.dtype in (np.int32, np.int64):
        return np.ascontiguousarray(a)
    # narrower integers fit int32; uint32 and uint64 ids may not
    return np.ascontiguousarray(a, dtype=np.int32 if a.dtype.itemsize < 4 else np.int64)


def pq_stats(pairs, categories):
    """Per-category (tp, fp, fn, iou sum) over image pairs, as arrays indexed like
    `cat_ids` (the categories' ids in their order), and cat_ids.

    pairs: sequence of (gt_map, gt_segments_info, pred_map, pred_segments_info)."""
    cats = categories_table(categories)
    cat_ids = list(cats)
    index = {c: i for i, c in enumerate(cat_ids)}
    gt_maps, pred_maps = [], []
    gid, gcat, gcrowd, garea, goff = [], [], [], [], [0]
    pid, pcat, poff = [], [], [0]
    kinds = set()
    for i, (gmap, gsegs, pmap, psegs) in enumerate(pairs):
        g, p = id_map(f"the ground-truth map of image {i}", gmap), id_map(f"the predicted map of image {i}", pmap)
        if g.shape[:2] != p.shape[:2]:
            raise ValueError(f"image {i}: the ground-truth map {g.shape[:2]} and the predicted map {p.shape[:2]} "
                             "differ in size")
        if g.dtype != p.dtype:  # one dtype for both: int64 ids
            g, p = np.ascontiguousarray(_ids(g), np.int64), np.ascontiguousarray(_ids(p), np.int64)
        kinds.add(g.dtype)
        gt_maps.append(g)
        pred_maps.append(p)
        for s in gsegs:
            gid.append(s["id"])
            gcat.append(_category(index, s, i, "ground-truth"))
            gcrowd.append(bool(s.get("iscrowd", 0)))
            garea.append(s["area"])
        for s in psegs:
            pid.append(s["id"])
            pcat.append(_category(index, s, i, "predicted"))
        goff.append(len(gid))
        poff.append(len(pid))
    if len(kinds) > 1:  # mixed dtypes across images: all as int64 ids
        gt_maps = [np.ascontiguousarray(_ids(m), np.int64) for m in gt_maps]
        pred_maps = [np.ascontiguousarray(_ids(m), np.int64) for m in pred_maps]
    K = len(cat_ids)
    tp, fp, fn = (np.zeros(K, np.int64) for _ in range(3))
    iou = np.zeros(K)
    err = _C.panoptic_stats(gt_maps, pred_maps, np.asarray(gid, np.int64), np.asarray(gcat, np.int64),
                            np.asarray(gcrowd, np.uint8), np.asarray(garea, np.float64), np.asarray(goff, np.int64),
                            np.asarray(pid, np.int64), np.asarray(pcat, np.int64), np.asarray(poff, np.int64), K,
                            tp, fp, fn, iou)
    if err:
        raise PanopticError(err)
    return tp, fp, fn, iou, cat_ids


def _category(index, seg, i, side):
    """The dense index of a segment's category; PanopticError if it is not a known one."""
    if seg["category_id"] not in index:
        raise PanopticError(f"image {i}: {side} segment {seg['id']} has unknown category_id {seg['category_id']}")
    return index[seg["category_id"]]


def _ids(m):
    """Ids of a map: colours turned into R + 256 G + 256^2 B, id maps as they are."""
    if m.ndim == 3:
        return m[..., 0].astype(np.int64) + 256 * m[..., 1].astype(np.int64) + 65536 * m[..., 2].astype(np.int64)
    return m


def pq_average(stats, categories, isthing):
    """panopticapi's PQStat.pq_average: (summary {pq, sq, rq, n}, per class {pq, sq, rq}) over
    the categories with any segment (isthing None: all; True: things; False: stuff). With no
    such category the summary is NaN (panopticapi divides by zero)."""
    tp, fp, fn, iou, cat_ids = stats
    cats = categories_table(categories)
    pq = sq = rq = 0.0
    n = 0
    per_class = {}
    for k, c in enumerate(cat_ids):
        if isthing is not None and (cats[c].get("isthing", 0) == 1) != isthing:
            continue
        t, f_p, f_n, s = int(tp[k]), int(fp[k]), int(fn[k]), float(iou[k])
        if t + f_p + f_n == 0:
            per_class[c] = {"pq": 0.0, "sq": 0.0, "rq": 0.0}
            continue
        n += 1
        pq_c = s / (t + 0.5 * f_p + 0.5 * f_n)
        sq_c = s / t if t != 0 else 0
        rq_c = t / (t + 0.5 * f_p + 0.5 * f_n)
        per_class[c] = {"pq": pq_c, "sq": sq_c, "rq": rq_c}
        pq += pq_c
        sq += sq_c
        rq += rq_c
    if n == 0:
        return {"pq": math.nan, "sq": math.nan, "rq": math.nan, "n": 0}, per_class
    return {"pq": pq / n, "sq": sq / n, "rq": rq / n, "n": n}, per_class
