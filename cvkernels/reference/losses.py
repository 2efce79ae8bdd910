"""Training losses from their definitions, in float64."""

from __future__ import annotations

import numpy as np


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """Focal loss (Lin et al. 2017): a_t * BCE_with_logits(x, t) * (1 - p_t) ** gamma."""
    x = np.asarray(inputs, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    p = 1.0 / (1.0 + np.exp(-x))
    ce = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def softmax_focal_loss(input, target, gamma=2.0, weight=None, ignore_index=-100, reduction="mean"):
    """-w[t] (1 - p_t)^gamma log p_t per kept pixel, p = softmax over axis 1; "mean" divides by
    the kept pixels' total weight (cross_entropy's rule)."""
    x = np.asarray(input, dtype=np.float64)
    t = np.asarray(target, dtype=np.int64)
    x = np.moveaxis(x, 1, -1)  # (N, ..., C)
    logp = x - x.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    keep = t != ignore_index
    tc = np.where(keep, t, 0)
    logp_t = np.take_along_axis(logp, tc[..., None], -1)[..., 0]
    w = np.ones(x.shape[-1]) if weight is None else np.asarray(weight, dtype=np.float64)
    wt = np.where(keep, w[tc], 0.0)
    loss = -wt * (1 - np.exp(logp_t)) ** gamma * logp_t
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum() if wt.sum() else np.nan
