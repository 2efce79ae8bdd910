"""Reference non-maximum suppression in numpy, written from the definitions.

Order: decreasing score, ties by lower index, a NaN score ranks lowest (as -inf).
Suppression: IoU > iou_threshold (strict), IoU as reference.box_iou (two empty boxes: 0).
"""

from __future__ import annotations

import numpy as np

from .boxes import box_iou


def _rank(scores):
    """Indices in decreasing score order, ties by lower index, NaN as -inf."""
    key = np.where(np.isnan(scores), -np.inf, scores)
    return np.lexsort((np.arange(len(key)), -key))


def nms(boxes, scores, iou_threshold):
    """Greedy NMS: visit boxes by rank; keep a box unless a kept box overlaps it by more than
    iou_threshold. Returns kept indices in rank order (int64)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    keep = []
    for i in _rank(scores):
        if keep:
            overlaps = box_iou(boxes[keep], boxes[i : i + 1])[:, 0]
            if np.any(overlaps > iou_threshold):
                continue
        keep.append(i)
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS within each class of idxs; the union, in rank order."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    idxs = np.asarray(idxs).reshape(-1)
    keep = []
    for c in np.unique(idxs):
        members = np.flatnonzero(idxs == c)
        keep.extend(members[nms(boxes[members], scores[members], iou_threshold)])
    keep = np.sort(np.array(keep, dtype=np.int64))  # so that rank ties go to the lower index
    return keep[_rank(scores[keep])]


def soft_nms(boxes, scores, iou_threshold=0.3, sigma=0.5, score_threshold=0.001, method="gaussian", idxs=None):
    """Soft-NMS (Bodla et al., 2017). Boxes whose score is below score_threshold (or NaN) are
    dropped. Repeatedly select the alive box with the highest score (ties: lower index), then
    multiply the score of every other alive box that overlaps it (IoU > 0) by
    exp(-iou^2 / sigma) ("gaussian") or, when iou > iou_threshold, by 1 - iou ("linear"), and
    drop those now below score_threshold. With idxs, this runs per class and the selections are
    merged by decayed score. Returns (indices, decayed scores) in decreasing score order."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if idxs is not None:
        idxs = np.asarray(idxs).reshape(-1)
        keep, kept = [], []
        for c in np.unique(idxs):
            members = np.flatnonzero(idxs == c)
            k, s = soft_nms(boxes[members], scores[members], iou_threshold, sigma, score_threshold, method)
            keep.extend(members[k])
            kept.extend(s)
        keep, kept = np.array(keep, dtype=np.int64), np.array(kept, dtype=np.float64)
        order = np.lexsort((keep, -kept))
        return keep[order], kept[order]
    s = scores.copy()
    alive = s >= score_threshold
    keep, kept = [], []
    while alive.any():
        candidates = np.flatnonzero(alive)
        i = candidates[np.argmax(s[candidates])]
        keep.append(i)
        kept.append(s[i])
        alive[i] = False
        iou = box_iou(boxes[i : i + 1], boxes)[0]
        if method == "gaussian":
            weight = np.exp(-(iou * iou) / sigma)
        else:
            weight = np.where(iou > iou_threshold, 1 - iou, 1.0)
        update = alive & (iou > 0)
        s[update] *= weight[update]
        alive &= s >= score_threshold
    return np.array(keep, dtype=np.int64), np.array(kept, dtype=np.float64)


def multiclass_nms(boxes, scores, score_threshold, iou_threshold, max_output_per_class, max_total,
                   class_agnostic=False):
    """Per image: candidates are the (box, class) pairs with score > score_threshold; NMS per
    class keeping at most max_output_per_class (or, class-agnostic, NMS over all candidates);
    then the best max_total by score (ties: lower box index, then lower class). Returns lists
    per image of (box, score, class)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    B, N, C = scores.shape
    out = []
    for b in range(B):
        dets = []  # (score, id = n * C + c)
        groups = [list(range(C))] if class_agnostic else [[c] for c in range(C)]
        for classes in groups:
            ids = [n * C + c for n in range(N) for c in classes if scores[b, n, c] > score_threshold]
            if not ids:
                continue
            cand_boxes = np.array([boxes[b, i // C, i % C] if boxes.ndim == 4 else boxes[b, i // C] for i in ids])
            cand_scores = np.array([scores[b, i // C, i % C] for i in ids])
            kept = nms(cand_boxes, cand_scores, iou_threshold)
            cap = max_total if class_agnostic else max_output_per_class
            dets.extend((cand_scores[k], ids[k]) for k in kept[:cap])
        dets.sort(key=lambda d: (-d[0], d[1]))
        res = []
        for s, i in dets[:max_total]:
            box = boxes[b, i // C, i % C] if boxes.ndim == 4 else boxes[b, i // C]
            res.append((box, s, i % C))
        out.append(res)
    return out


def nms_rotated(boxes, scores, iou_threshold, idxs=None):
    """Greedy NMS of rotated boxes: by descending score (stable), drop the later boxes (of the
    same idx when given) whose rotated IoU with a kept one exceeds the threshold."""
    from .boxes import box_iou_rotated

    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-np.where(np.isnan(s), -np.inf, s), kind="stable")
    order = np.concatenate([order[~np.isnan(s[order])], order[np.isnan(s[order])]])
    iou = box_iou_rotated(b, b)
    removed = np.zeros(len(b), bool)
    keep = []
    for i in order:
        if removed[i]:
            continue
        keep.append(i)
        same = np.ones(len(b), bool) if idxs is None else np.asarray(idxs) == np.asarray(idxs)[i]
        removed |= (iou[i] > iou_threshold) & same
    return np.asarray(keep, dtype=np.int64)
