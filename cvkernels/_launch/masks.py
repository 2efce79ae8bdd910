"""Launchers of the mask metrics (csrc/masks/): the per (sample, class) counts behind
dice_score / iou_score, the statistics of the soft-Dice loss and its gradient, and pairwise
IoU / Dice of binary masks. Formats and input rules are in mask_inputs.py; CUDA tensors go
through masks_cuda.py.
"""

from __future__ import annotations

import numpy as np

from .checks import choice
from .mask_inputs import (  # noqa: F401  (ACTIVATIONS, NO_IGNORE, resolve_format: part of this launcher's API)
    ACTIVATIONS,
    AVERAGES,
    LEVELS,
    NO_IGNORE,
    argmax,
    check_labels,
    check_num_classes,
    dice_spec,
    labels,
    resolve_format,
    u8,
)


# --- counts ----------------------------------------------------------------------------------

def counts(xp, preds, target, num_classes, input_format, ignore_index):
    """(I, P, T): int64 (N, C) intersections, prediction and target sizes."""
    xp.same_device(preds=preds, target=target)
    fmt, N, C, size = resolve_format(preds.shape, target.shape, num_classes, input_format)
    if xp.is_cuda(preds):
        from . import masks_cuda

        return masks_cuda.counts(xp, preds, target, fmt, N, C, size, NO_IGNORE if ignore_index is None else ignore_index)
    p, t = preds, target
    I, P, T = (xp.zeros((N, C), xp.int64, p) for _ in range(3))
    k = xp.kernels(p)
    views = (xp.view(I), xp.view(P), xp.view(T))
    if fmt == "binary":
        k.mask_binary_counts(xp.view(u8(xp, p.reshape(N, size))), xp.view(u8(xp, t.reshape(N, size))), *views)
        return I, P, T
    pf, tf = xp.is_float(p.dtype), xp.is_float(t.dtype)
    if fmt == "one-hot" and (pf or tf):
        # scores -> labels (argmax over C); then both sides are labels or one is planes
        if pf and tf:
            fmt, p, t = "index", argmax(xp, p), argmax(xp, t)
        elif pf:
            fmt, p = "mixed", argmax(xp, p)
        else:
            fmt, t = "mixed", argmax(xp, t)
    elif fmt == "mixed":
        four_is_pred = p.ndim == 4
        four = p if four_is_pred else t
        if xp.is_float(four.dtype):
            lab = argmax(xp, four)
            p, t = (lab, t) if four_is_pred else (p, lab)
            fmt = "index"
    if fmt == "index":
        pl, tl = labels(xp, "preds", p).reshape(N, size), labels(xp, "target", t).reshape(N, size)
        ig = NO_IGNORE if ignore_index is None else int(ignore_index)
        at, value = k.mask_label_counts(xp.view(pl), xp.view(tl), C, ig, *views)
        if at >= 0:
            raise ValueError(f"label {value} is outside [0, {C}) (num_classes={C}); pixels to skip need ignore_index")
        return I, P, T
    if fmt == "one-hot":
        k.mask_binary_counts(xp.view(u8(xp, p.reshape(N * C, size))), xp.view(u8(xp, t.reshape(N * C, size))),
                             *views)
        return I, P, T
    # mixed: labels on one side, planes on the other
    labels_are_pred = p.ndim == 3
    lab = labels(xp, "preds" if labels_are_pred else "target", p if labels_are_pred else t).reshape(N, size)
    planes = u8(xp, (t if labels_are_pred else p).reshape(N * C, size))
    at = k.mask_mixed_counts(xp.view(lab), xp.view(planes), C, labels_are_pred, *views)
    if at >= 0:
        raise ValueError(f"label {int(lab.reshape(-1)[at])} is outside [0, {C}) (num_classes={C})")
    return I, P, T


def check_average(average, aggregation_level):
    average = "none" if average is None else average
    choice("average", average, AVERAGES)
    choice("aggregation_level", aggregation_level, LEVELS)
    return average


def scores(xm, I, P, T, kind, include_background, average, aggregation_level, ignore_index, smooth, zero_division):
    """dice or iou scores from the (N, C) counts, with xm the array module of the counts
    (numpy, or torch for tensors that stay on their device)."""
    torch = None if xm is np else xm
    C = I.shape[1]
    keep = list(range(C))
    if not include_background and C > 1:
        keep = keep[1:]  # class 0 is the background
    averaged = list(keep)
    if ignore_index is not None and 0 <= ignore_index < C and ignore_index in averaged and average != "none":
        averaged.remove(ignore_index)  # the ignored class has no target: leave it out of averages
    if torch is not None:
        I, P, T = (x.to(torch.float64) for x in (I, P, T))
    else:
        I, P, T = (x.astype(np.float64) for x in (I, P, T))
    sel = averaged if average != "none" else keep
    I, P, T = I[:, sel], P[:, sel], T[:, sel]
    if aggregation_level == "global":
        I, P, T = (x.sum(0, keepdims=True) if torch is None else x.sum(0, keepdim=True) for x in (I, P, T))
    num = 2 * I if kind == "dice" else I
    den = P + T if kind == "dice" else P + T - I
    if average == "micro":
        num, den = num.sum(-1), den.sum(-1)
    num, den = num + smooth, den + smooth
    zero = den == 0
    safe = xm.where(zero, xm.ones_like(den), den)
    value = xm.where(zero, xm.full_like(den, float(zero_division)), num / safe)
    if average == "macro":
        if torch is not None:
            value = torch.nanmean(value, dim=-1)
        else:
            with np.errstate(all="ignore"):
                n = (~np.isnan(value)).sum(-1)
                value = np.where(n > 0, np.nansum(value, -1) / np.maximum(n, 1), np.nan)
    return value


# --- soft-Dice statistics ----------------------------------------------------------------------

def _dice_args(xp, input, target, ignore_index):
    N, C, size, is_labels = dice_spec(xp, input, target)
    ct = xp.compute_dtype("input", input.dtype)
    x = xp.contiguous(xp.detach(input), ct)
    if is_labels:
        lab = xp.contiguous(xp.detach(target), xp.int64)
        check_labels(xp, lab, C, ignore_index)
        return C, x, lab, None
    return C, x, None, xp.contiguous(xp.detach(target), ct)


def dice_stats(xp, input, target, activation: int, ignore_index: int):
    """float64 (C, 3): per class sum p t, sum p (over kept pixels) and sum t, with p the
    activated input, summed over the batch and the pixels."""
    if xp.is_cuda(input):
        from . import masks_cuda

        return masks_cuda.dice_stats(xp, input, target, activation, ignore_index)
    C, x, lab, dense = _dice_args(xp, input, target, ignore_index)
    stats = xp.empty((C, 3), xp.float64, x)
    xp.kernels(x).dice_stats(xp.view(x), None if lab is None else xp.view(lab),
                             None if dense is None else xp.view(dense), activation, ignore_index, xp.view(stats),
                             xp.stream(x))
    return stats


def dice_stats_backward(xp, grad, input, target, activation: int, ignore_index: int):
    """Gradient of sum(grad * dice_stats(input, ...)) with respect to input, in the compute dtype."""
    if xp.is_cuda(input):
        from . import masks_cuda

        return masks_cuda.dice_stats_backward(xp, grad, input, target, activation, ignore_index)
    C, x, lab, dense = _dice_args(xp, input, target, ignore_index)
    g = xp.contiguous(xp.detach(grad), xp.float64)
    gx = xp.empty(x.shape, x.dtype, x)
    xp.kernels(x).dice_stats_backward(xp.view(x), None if lab is None else xp.view(lab),
                                      None if dense is None else xp.view(dense), activation, ignore_index,
                                      xp.view(g), xp.view(gx), xp.stream(x))
    return gx


# --- pairwise ----------------------------------------------------------------------------------

def pairwise_spec(shape1, shape2):
    """(N, M) after checking masks1 (N, H, W) and masks2 (M, H, W)."""
    shape1, shape2 = tuple(shape1), tuple(shape2)
    for name, s in (("masks1", shape1), ("masks2", shape2)):
        if len(s) != 3:
            raise ValueError(f"{name} must have shape (N, H, W), got {s}")
    if shape1[1:] != shape2[1:]:
        raise ValueError(f"masks1 and masks2 must have the same (H, W), got {shape1[1:]} and {shape2[1:]}")
    return shape1[0], shape2[0]


def pairwise(xp, masks1, masks2, dice: bool, out_dtype):
    """(N, M) IoU (or Dice) of every pair of binary masks, in out_dtype (float32 or float64)."""
    xp.same_device(masks1=masks1, masks2=masks2)
    N, M = pairwise_spec(masks1.shape, masks2.shape)
    a, b = u8(xp, masks1), u8(xp, masks2)
    out = xp.empty((N, M), out_dtype, a)
    k = xp.kernels(a)
    if xp.is_cuda(a):
        from . import masks_cuda

        masks_cuda.pairwise(xp, k, a, b, dice, out)
    else:
        k.pairwise_masks(xp.view(a), xp.view(b), dice, xp.view(out), xp.stream(a))
    return out
