"""Bipartite matching from the definitions: the assignment of least total cost by trying every
one (small matrices only), and DETR's matching cost as its paper and code write it."""

from __future__ import annotations

import itertools

import numpy as np

from .boxes import box_convert, generalized_box_iou


def linear_sum_assignment(cost, maximize=False):
    """(rows, cols) of least total cost (greatest with maximize) over every way to give each
    of the min(N, M) rows or columns of the smaller side a distinct partner; +inf cells are
    forbidden. Exhaustive: for up to about 8 x 8. Raises ValueError when nothing is allowed."""
    c = np.asarray(cost, dtype=np.float64)
    n, m = c.shape
    if maximize:
        c = -c
    best, best_pairs = np.inf, None
    if n <= m:
        for cols in itertools.permutations(range(m), n):
            total = sum(c[i, j] for i, j in enumerate(cols))
            if total < best:
                best, best_pairs = total, (list(range(n)), list(cols))
    else:
        for rows in itertools.permutations(range(n), m):
            total = sum(c[i, j] for j, i in enumerate(rows))
            if total < best:
                order = np.argsort(rows)
                best, best_pairs = total, (list(np.asarray(rows)[order]), list(order))
    if n and m and best_pairs is None:
        raise ValueError("cost matrix is infeasible")
    rows, cols = best_pairs if best_pairs else ([], [])
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def detr_cost(pred_logits, pred_boxes, labels, boxes, cost_class=1.0, cost_bbox=1.0, cost_giou=1.0):
    """DETR's matching cost of one image: (Q, n) = cost_bbox * L1(pred, gt) + cost_class *
    (-softmax(logits)[label]) + cost_giou * (-GIoU(pred, gt)), boxes as (cx, cy, w, h)."""
    x = np.asarray(pred_logits, dtype=np.float64)
    p = np.exp(x - x.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    pb, tb = np.asarray(pred_boxes, np.float64), np.asarray(boxes, np.float64).reshape(-1, 4)
    l1 = np.abs(pb[:, None, :] - tb[None, :, :]).sum(-1)
    giou = generalized_box_iou(box_convert(pb, "cxcywh", "xyxy"), box_convert(tb, "cxcywh", "xyxy"))
    return cost_bbox * l1 + cost_class * (-p[:, np.asarray(labels, dtype=np.int64)]) + cost_giou * (-giou)
