"""Reference mask metrics in numpy, from the definitions (one-hot class membership).

counts(): I, P, T of shape (N, C); dice / iou from counts; soft Dice loss; pairwise IoU.
"""

from __future__ import annotations

import numpy as np


def class_membership(x, C, fmt):
    """(N, C, pixels) bool: which class(es) each pixel belongs to."""
    x = np.asarray(x)
    if fmt == "binary":
        x = x.reshape(x.shape[0], 1, -1)
        return x > 0.5 if x.dtype.kind == "f" else x != 0
    if fmt == "labels":
        x = x.reshape(x.shape[0], -1)
        return np.stack([x == c for c in range(C)], axis=1)
    x = x.reshape(x.shape[0], x.shape[1], -1)
    if x.dtype.kind == "f":  # scores: argmax over the classes
        return class_membership(x.argmax(1), C, "labels")
    return x != 0


def counts(pred_member, target_member, keep=None):
    """I, P, T (N, C) from memberships; keep (N, pixels) drops pixels."""
    if keep is not None:
        pred_member = pred_member & keep[:, None]
        target_member = target_member & keep[:, None]
    return ((pred_member & target_member).sum(-1), pred_member.sum(-1), target_member.sum(-1))


def dice(I, P, T, smooth=0.0, empty=np.nan):
    den = P + T + smooth
    with np.errstate(all="ignore"):
        return np.where(den == 0, empty, (2.0 * I + smooth) / den)


def iou(I, P, T, smooth=0.0, empty=np.nan):
    den = P + T - I + smooth
    with np.errstate(all="ignore"):
        return np.where(den == 0, empty, (I + smooth) / den)


def soft_dice_loss(x, target, activation="softmax", weight=None, smooth=0.0, eps=1e-7, ignore_index=None):
    """Soft Dice loss over the batch and pixels, mean (or weighted mean) over classes."""
    x = np.asarray(x, dtype=np.float64)
    N, C = x.shape[:2]
    x = x.reshape(N, C, -1)
    if activation == "softmax":
        e = np.exp(x - x.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
    elif activation == "sigmoid":
        p = 1 / (1 + np.exp(-x))
    else:
        p = x
    t = np.asarray(target)
    keep = np.ones((N, 1, x.shape[2]))
    if t.dtype.kind in "iub" and t.size == N * x.shape[2]:  # integer labels (N, pixels)
        lab = t.reshape(N, -1)
        if ignore_index is not None:
            keep = (lab != ignore_index)[:, None].astype(np.float64)
        t = np.stack([(lab == c) for c in range(C)], 1).astype(np.float64) * keep
    else:
        t = t.reshape(N, C, -1).astype(np.float64)
    inter = (p * t).sum((0, 2))
    psum = (p * keep).sum((0, 2))
    tsum = t.sum((0, 2))
    d = (2 * inter + smooth) / np.maximum(psum + tsum + smooth, eps)
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    return float(((1 - d) * w).sum() / w.sum())


def pairwise_iou(a, b, dice_instead=False):
    fa = (np.asarray(a) != 0).reshape(len(a), -1).astype(np.float64)
    fb = (np.asarray(b) != 0).reshape(len(b), -1).astype(np.float64)
    inter = fa @ fb.T
    sa, sb = fa.sum(1)[:, None], fb.sum(1)[None, :]
    num, den = (2 * inter, sa + sb) if dice_instead else (inter, sa + sb - inter)
    with np.errstate(all="ignore"):
        return np.where(den > 0, num / den, 0.0)


def rle_bbox(counts, h, w):
    """pycocotools' rleToBbox (2.0.8+) on uncompressed run lengths (background first): the
    position is a 32-bit unsigned sum, as in pycocotools, so runs adding up past 2^32 wrap."""
    mask32 = 0xFFFFFFFF
    m = len(counts) // 2 * 2
    if m == 0 or h == 0:
        return [0.0, 0.0, 0.0, 0.0]
    xs, ys, xe, ye, cc = w, h, 0, 0, 0
    for j in range(0, m, 2):
        cc = (cc + counts[j]) & mask32
        if counts[j + 1] == 0:
            continue
        y0, x0 = cc % h, cc // h
        cc = (cc + counts[j + 1]) & mask32
        t = (cc - 1) & mask32
        y1, x1 = t % h, t // h
        if x0 < x1:
            ys, ye = 0, h - 1
        xs, xe = min(xs, x0), max(xe, x1)
        ys, ye = min(ys, y0, y1), max(ye, y0, y1)
    return [float(xs), float(ys), float((xe - xs + 1) & mask32), float((ye - ys + 1) & mask32)]
