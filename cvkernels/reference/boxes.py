"""Reference box geometry in numpy, from the definitions (boxes are x1, y1, x2, y2).

Pairwise functions take (N, 4) and (M, 4), or (B, N, 4) and (B, M, 4), and return (N, M) or
(B, N, M) in float64. The conventions for degenerate input are cvkernels' (see DESIGN.md):
IoU of two empty boxes is 0, GIoU with an empty enclosing box is the IoU, a box with zero
width and height has CIoU aspect angle 0, NaN propagates.
"""

from __future__ import annotations

import math

import numpy as np


def _split(boxes):
    b = np.asarray(boxes, dtype=np.float64)
    return b[..., 0], b[..., 1], b[..., 2], b[..., 3]


def box_area(boxes):
    x1, y1, x2, y2 = _split(boxes)
    return (x2 - x1) * (y2 - y1)


def _pairs(boxes1, boxes2):
    """Coordinates broadcast to (..., N, M): a's along rows, b's along columns."""
    a = _split(np.asarray(boxes1)[..., :, None, :])
    b = _split(np.asarray(boxes2)[..., None, :, :])
    return a, b


def _safe_div(num, den):
    """num / den, with 0 where den == 0 (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = num / den
    return np.where(den == 0, 0.0, q)


def _intersection_union(a, b):
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter, union


def _enclosing_wh(a, b):
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    cw = np.clip(np.maximum(ax2, bx2) - np.minimum(ax1, bx1), 0, None)
    ch = np.clip(np.maximum(ay2, by2) - np.minimum(ay1, by1), 0, None)
    return cw, ch


def _centre_distance_sq(a, b):
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2
    dy = (ay1 + ay2) / 2 - (by1 + by2) / 2
    return dx * dx + dy * dy


def _aspect_angle(w, h):
    """atan(w / h), and 0 for a box with w == h == 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        angle = np.arctan(w / h)
    return np.where((w == 0) & (h == 0), 0.0, angle)


def box_iou(boxes1, boxes2):
    a, b = _pairs(boxes1, boxes2)
    inter, union = _intersection_union(a, b)
    return _safe_div(inter, union)


def generalized_box_iou(boxes1, boxes2):
    a, b = _pairs(boxes1, boxes2)
    inter, union = _intersection_union(a, b)
    iou = _safe_div(inter, union)
    cw, ch = _enclosing_wh(a, b)
    area_c = cw * ch
    with np.errstate(divide="ignore", invalid="ignore"):
        giou = iou - (area_c - union) / area_c
    return np.where(area_c == 0, iou, giou)


def distance_box_iou(boxes1, boxes2, eps=1e-7):
    a, b = _pairs(boxes1, boxes2)
    inter, union = _intersection_union(a, b)
    iou = _safe_div(inter, union)
    cw, ch = _enclosing_wh(a, b)
    return iou - _centre_distance_sq(a, b) / (cw**2 + ch**2 + eps)


def complete_box_iou(boxes1, boxes2, eps=1e-7):
    a, b = _pairs(boxes1, boxes2)
    inter, union = _intersection_union(a, b)
    iou = _safe_div(inter, union)
    cw, ch = _enclosing_wh(a, b)
    diou = iou - _centre_distance_sq(a, b) / (cw**2 + ch**2 + eps)
    angle_a = _aspect_angle(a[2] - a[0], a[3] - a[1])
    angle_b = _aspect_angle(b[2] - b[0], b[3] - b[1])
    v = 4 / math.pi**2 * (angle_a - angle_b) ** 2
    alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def box_iou_loss(kind, boxes1, boxes2, reduction="none", eps=1e-7):
    """Paired losses as torchvision defines them, kind in "giou", "diou", "ciou":
    iou = inter / (union + eps); giou loss = 1 - iou + (area_c - union) / (area_c + eps);
    diou loss = 1 - iou + d^2 / (c^2 + eps); ciou loss = diou loss + alpha * v."""
    a = _split(boxes1)
    b = _split(boxes2)
    inter, union = _intersection_union(a, b)
    iou = inter / (union + eps)
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    cw = np.maximum(ax2, bx2) - np.minimum(ax1, bx1)
    ch = np.maximum(ay2, by2) - np.minimum(ay1, by1)
    if kind == "giou":
        area_c = cw * ch
        loss = 1 - iou + (area_c - union) / (area_c + eps)
    else:
        loss = 1 - iou + _centre_distance_sq(a, b) / (cw**2 + ch**2 + eps)
        if kind == "ciou":
            angle_a = _aspect_angle(ax2 - ax1, ay2 - ay1)
            angle_b = _aspect_angle(bx2 - bx1, by2 - by1)
            v = 4 / math.pi**2 * (angle_a - angle_b) ** 2
            loss = loss + v / (1 - iou + v + eps) * v
        elif kind != "diou":
            raise ValueError(f"kind must be 'giou', 'diou' or 'ciou', got {kind!r}")
    if reduction == "mean":
        return loss.mean() if loss.size else 0.0
    if reduction == "sum":
        return loss.sum()
    return loss


def box_convert(boxes, in_fmt, out_fmt):
    """Convert between "xyxy", "xywh" and "cxcywh" (through xyxy)."""
    b = np.asarray(boxes, dtype=np.float64)
    p, q, r, s = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if in_fmt == "xywh":
        p, q, r, s = p, q, p + r, q + s
    elif in_fmt == "cxcywh":
        p, q, r, s = p - r / 2, q - s / 2, p + r / 2, q + s / 2
    if out_fmt == "xywh":
        p, q, r, s = p, q, r - p, s - q
    elif out_fmt == "cxcywh":
        p, q, r, s = (p + r) / 2, (q + s) / 2, r - p, s - q
    return np.stack([p, q, r, s], axis=-1)


def box_iou_rotated(boxes1, boxes2):
    """IoU of rotated boxes (cx, cy, w, h, degrees counter-clockwise): each pair's corners, the
    intersection polygon by clipping one box with the other's edges, areas by the shoelace
    formula."""

    def corners(b):
        cx, cy, w, h, a = (float(v) for v in b)
        c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
        return [(cx + c * dx - s * dy, cy + s * dx + c * dy)
                for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]

    def clip(poly, a, b):  # keep the part left of a -> b
        out = []
        side = [(b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) for p in poly]
        for i, p in enumerate(poly):
            q, sp, sq = poly[(i + 1) % len(poly)], side[i], side[(i + 1) % len(poly)]
            if sp >= 0:
                out.append(p)
            if (sp >= 0) != (sq >= 0):
                r = sp / (sp - sq)
                out.append((p[0] + r * (q[0] - p[0]), p[1] + r * (q[1] - p[1])))
        return out

    def area(poly):
        return abs(sum(p[0] * q[1] - q[0] * p[1] for p, q in zip(poly, poly[1:] + poly[:1]))) / 2 if len(poly) > 2 else 0.0

    a, b = np.asarray(boxes1, np.float64).reshape(-1, 5), np.asarray(boxes2, np.float64).reshape(-1, 5)
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            if not np.isfinite(p.sum() + q.sum()):
                out[i, j] = np.nan
                continue
            if not (p[2] * p[3] > 0 and q[2] * q[3] > 0):
                continue
            poly = corners(p)
            cq = corners(q)
            for k in range(4):
                poly = clip(poly, cq[k], cq[(k + 1) % 4])
            inter = area(poly)
            out[i, j] = inter / (p[2] * p[3] + q[2] * q[3] - inter)
    return out
