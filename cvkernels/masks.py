"""Mask metrics and losses: dice_score, iou_score (Jaccard), dice_loss, and pairwise IoU /
Dice of binary masks. Numpy arrays and torch tensors; every input is read once.

The scores come from per (sample, class) counts I (intersection), P (prediction), T
(target):  dice = (2 I + smooth) / (P + T + smooth),  iou = (I + smooth) / (P + T - I + smooth).
A class absent from both prediction and target (denominator 0) scores `zero_division`, NaN by
default: undefined, and left out of "macro" averages (torchmetrics' rule). With smooth > 0 it
scores 1.
"""

from __future__ import annotations

import math

import numpy as np

from . import _C
from ._core import as_numpy, code_of, is_tensor, sync_threads, torch_module, use_torch
from ._mask_rules import check_average, resolve_format

__all__ = ["dice_score", "iou_score", "dice_loss", "pairwise_mask_iou", "pairwise_mask_dice"]


# --- counts ----------------------------------------------------------------------------------

def _np_u8(x, fmt_float_threshold=True):
    """0/1 bytes of a mask: nonzero (integers, bools) or > 0.5 (floats)."""
    if x.dtype == np.bool_ or x.dtype == np.uint8:
        return np.ascontiguousarray(x).view(np.uint8)
    if x.dtype.kind == "f":
        return np.ascontiguousarray(x > 0.5).view(np.uint8)
    return np.ascontiguousarray(x != 0).view(np.uint8)


def _np_labels(name, x):
    if x.dtype.kind not in "iub":
        raise TypeError(f"{name} label maps must be integers, got dtype {x.dtype}")
    return np.ascontiguousarray(x, dtype=np.int64)


def _np_argmax(x):
    dt = np.float32 if x.dtype == np.float16 else x.dtype
    x = np.ascontiguousarray(x, dtype=dt)
    N, C = x.shape[:2]
    out = np.empty((N,) + x.shape[2:], dtype=np.int64)
    sync_threads()
    _C.mask_argmax(code_of(x.dtype), x.ctypes.data, N, C, int(np.prod(x.shape[2:])), out.ctypes.data)
    return out


def _np_counts(preds, target, num_classes, input_format, ignore_index):
    """(I, P, T) int64 arrays (N, C)."""
    p = as_numpy("preds", preds)
    t = as_numpy("target", target)
    fmt, N, C, size = resolve_format(p.shape, t.shape, num_classes, input_format)
    I, P, T = (np.zeros((N, C), dtype=np.int64) for _ in range(3))
    sync_threads()
    if fmt == "binary":
        pb, tb = _np_u8(p.reshape(N, size)), _np_u8(t.reshape(N, size))
        _C.mask_binary_counts(pb.ctypes.data, tb.ctypes.data, N, size, I.ctypes.data, P.ctypes.data, T.ctypes.data)
        return I, P, T
    if fmt == "one-hot" and (p.dtype.kind == "f" or t.dtype.kind == "f"):
        # scores -> labels (argmax over C); then both sides are labels or one is planes
        if p.dtype.kind == "f" and t.dtype.kind == "f":
            fmt, p, t = "index", _np_argmax(p), _np_argmax(t)
        elif p.dtype.kind == "f":
            fmt, p = "mixed", _np_argmax(p)
        else:
            fmt, t = "mixed", _np_argmax(t)
    elif fmt == "mixed":
        four_is_pred = p.ndim == 4
        four = p if four_is_pred else t
        if four.dtype.kind == "f":
            lab = _np_argmax(four)
            p, t = (lab, t) if four_is_pred else (p, lab)
            fmt = "index"
    if fmt == "index":
        pl, tl = _np_labels("preds", p).reshape(N, size), _np_labels("target", t).reshape(N, size)
        ig = -(2**62) if ignore_index is None else int(ignore_index)
        at, value = _C.mask_label_counts(pl.ctypes.data, tl.ctypes.data, N, size, C, ig, I.ctypes.data,
                                         P.ctypes.data, T.ctypes.data)
        if at >= 0:
            raise ValueError(f"label {value} is outside [0, {C}) (num_classes={C}); pixels to skip need ignore_index")
        return I, P, T
    if fmt == "one-hot":
        pb, tb = _np_u8(p.reshape(N * C, size)), _np_u8(t.reshape(N * C, size))
        _C.mask_binary_counts(pb.ctypes.data, tb.ctypes.data, N * C, size, I.ctypes.data, P.ctypes.data,
                              T.ctypes.data)
        return I, P, T
    # mixed: labels on one side, planes on the other
    labels_are_pred = p.ndim == 3
    lab = _np_labels("preds" if labels_are_pred else "target", p if labels_are_pred else t).reshape(N, size)
    planes = _np_u8((t if labels_are_pred else p).reshape(N * C, size))
    at = _C.mask_mixed_counts(lab.ctypes.data, planes.ctypes.data, labels_are_pred, N, size, C, I.ctypes.data,
                              P.ctypes.data, T.ctypes.data)
    if at >= 0:
        raise ValueError(f"label {int(lab.reshape(-1)[at])} is outside [0, {C}) (num_classes={C})")
    return I, P, T


def _counts(preds, target, num_classes, input_format, ignore_index):
    if use_torch(preds, target):
        torch = torch_module()
        ref = preds if is_tensor(preds) else target
        preds = preds if is_tensor(preds) else torch.as_tensor(preds, device=ref.device)
        target = target if is_tensor(target) else torch.as_tensor(target, device=ref.device)
        ig = -(2**62) if ignore_index is None else int(ignore_index)
        nc = -1 if num_classes is None else int(num_classes)
        return torch.ops.cvkernels.mask_counts(preds, target, nc, input_format, ig)
    return _np_counts(preds, target, num_classes, input_format, ignore_index)


# --- scores ----------------------------------------------------------------------------------

def _score(kind, preds, target, num_classes, include_background, average, input_format, aggregation_level,
           ignore_index, smooth, zero_division):
    average = check_average(average, aggregation_level)
    if not isinstance(include_background, bool):
        raise TypeError(f"include_background must be a bool, got {type(include_background).__name__}")
    smooth = float(smooth)
    if not smooth >= 0:
        raise ValueError(f"smooth must be >= 0, got {smooth}")
    I, P, T = _counts(preds, target, num_classes, input_format, ignore_index)
    args = (kind, include_background, average, aggregation_level, ignore_index, smooth, zero_division)
    if not is_tensor(I):
        return _finish(None, I, P, T, *args)
    torch = torch_module()
    if I.device.type == "cpu" and not torch.compiler.is_compiling():
        # (N, C) counts: numpy's small-array ops cost about a microsecond each, torch's ten
        return torch.from_numpy(_finish(None, I.numpy(), P.numpy(), T.numpy(), *args))
    return _finish(torch, I, P, T, *args)


def _finish(torch, I, P, T, kind, include_background, average, aggregation_level, ignore_index, smooth,
            zero_division):
    """The scores from the (N, C) counts: torch tensors with torch, else numpy arrays."""
    xp = torch if torch is not None else np
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
    safe = xp.where(zero, xp.ones_like(den), den)
    value = xp.where(zero, xp.full_like(den, float(zero_division)), num / safe)
    if average == "macro":
        if torch is not None:
            value = torch.nanmean(value, dim=-1)
        else:
            with np.errstate(all="ignore"):
                n = (~np.isnan(value)).sum(-1)
                value = np.where(n > 0, np.nansum(value, -1) / np.maximum(n, 1), np.nan)
    return value


_SCORE_DOC = """
    Args:
        preds, target: binary masks (N, H, W) / (N, 1, H, W), label maps (N, H, W) with
            num_classes, one-hot or score maps (N, C, H, W) (scores: argmax over C), or one of
            each ("mixed"). bool, uint8, int64 or floating; numpy or torch.
        num_classes: number of classes of label maps (None: binary masks).
        include_background: keep class 0 (when there are several classes).
        average: "macro" (mean over classes, undefined classes left out), "micro" (pool the
            counts of the classes), "none" (per class).
        input_format: "auto" (from the shapes), "binary", "index", "one-hot" or "mixed".
        aggregation_level: "samplewise" (a score per sample) or "global" (pool the samples).
        ignore_index: target label whose pixels are skipped (label maps); that class is left
            out of the averages.
        smooth: added to numerator and denominator.
        zero_division: score of a class absent from both sides (NaN: undefined).

    Returns:
        float64, (N,) for micro / macro, (N, C) for none; (1,) or (1, C) with "global". Equal to
        torchmetrics' functional {name} (and {tm}) for the same settings.

    Raises:
        ValueError: shapes that do not fit the format, labels outside [0, num_classes), bad
            arguments. TypeError: non-integer label maps.
"""


def dice_score(preds, target, num_classes=None, include_background=True, average="macro", input_format="auto",
               aggregation_level="samplewise", ignore_index=None, smooth=0.0, zero_division=float("nan")):
    """Dice coefficient (F1 of masks), ``2 |A & B| / (|A| + |B|)``.

    Example:
        >>> import numpy as np, cvkernels
        >>> a = np.array([[[1, 1], [0, 0]]], bool); b = np.array([[[1, 0], [0, 0]]], bool)
        >>> cvkernels.dice_score(a, b)
        array([0.66666667])
    """
    return _score("dice", preds, target, num_classes, include_background, average, input_format,
                  aggregation_level, ignore_index, smooth, zero_division)


def iou_score(preds, target, num_classes=None, include_background=True, average="macro", input_format="auto",
              aggregation_level="samplewise", ignore_index=None, smooth=0.0, zero_division=float("nan")):
    """Intersection over union (Jaccard index) of masks, ``|A & B| / |A | B|``.

    Example:
        >>> import numpy as np, cvkernels
        >>> a = np.array([[[1, 1], [0, 0]]], bool); b = np.array([[[1, 0], [0, 0]]], bool)
        >>> cvkernels.iou_score(a, b)
        array([0.5])
    """
    return _score("iou", preds, target, num_classes, include_background, average, input_format,
                  aggregation_level, ignore_index, smooth, zero_division)


dice_score.__doc__ += _SCORE_DOC.format(name="dice_score", tm="DiceScore")
iou_score.__doc__ += _SCORE_DOC.format(name="mean_iou", tm="MeanIoU, JaccardIndex with aggregation_level='global'")


# --- soft Dice loss --------------------------------------------------------------------------

_ACTIVATIONS = {None: 0, "none": 0, "sigmoid": 1, "softmax": 2}


def _loss_from_stats(stats, weight, smooth, eps, xp):
    inter, psum, tsum = stats[:, 0], stats[:, 1], stats[:, 2]
    den = psum + tsum + smooth
    den = xp.clip(den, eps, None) if xp is np else den.clamp(min=eps)
    dice = (2 * inter + smooth) / den
    per_class = 1 - dice
    if weight is None:
        return per_class.mean()
    return (per_class * weight).sum() / weight.sum()


def dice_loss(input, target, activation="softmax", weight=None, smooth=0.0, eps=1e-7, ignore_index=None):
    """Soft Dice loss, ``mean_c w_c (1 - (2 sum p t + smooth) / max(sum p + sum t + smooth, eps))``
    with the sums over the batch and the pixels, differentiable with respect to ``input``
    (torch; a torch op with a backward kernel).

    Args:
        input: (N, C, H, W) scores: logits (activation "softmax" over C or "sigmoid") or
            probabilities (activation None). Binary: (N, 1, H, W) with "sigmoid".
        target: (N, H, W) integer labels, or (N, C, H, W) one-hot / soft targets.
        weight: optional (C,) class weights. smooth, eps: as above.
        ignore_index: label whose pixels are skipped (integer targets).

    Returns:
        A scalar (0-d tensor or numpy float64) in the input's dtype.

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.zeros((1, 2, 2, 2), np.float32); t = np.zeros((1, 2, 2), np.int64)
        >>> round(float(cvkernels.dice_loss(x, t)), 4)  # probabilities 0.5 everywhere
        0.5833
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be 'softmax', 'sigmoid' or None, got {activation!r}")
    act = _ACTIVATIONS[activation]
    ig = -(2**62) if ignore_index is None else int(ignore_index)
    if use_torch(input, target):
        torch = torch_module()
        if not is_tensor(target):
            target = torch.as_tensor(target, device=input.device)
        stats = torch.ops.cvkernels.dice_stats(input, target, act, ig)
        w = None if weight is None else torch.as_tensor(weight, dtype=stats.dtype, device=stats.device)
        return _loss_from_stats(stats, w, float(smooth), float(eps), torch).to(input.dtype)
    x = as_numpy("input", input)
    t = as_numpy("target", target)
    stats = _np_dice_stats(x, t, act, ig)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    return np.asarray(_loss_from_stats(stats, w, float(smooth), float(eps), np), dtype=x.dtype)[()]


def _np_dice_stats(x, t, act, ig):
    from ._dice_rules import dice_dims

    N, C, size, labels = dice_dims(x.shape, t.shape, np.dtype(t.dtype).kind in "iub" and t.ndim == x.ndim - 1)
    if x.dtype.kind != "f":
        raise TypeError(f"input must be floating, got dtype {x.dtype}")
    dt = np.float32 if x.dtype == np.float16 else x.dtype
    xv = np.ascontiguousarray(x, dtype=dt)
    stats = np.empty((C, 3), dtype=np.float64)
    sync_threads()
    if labels:
        lv = np.ascontiguousarray(t, dtype=np.int64)
        _check_np_labels(lv, C, ig)
        _C.dice_stats(code_of(dt), xv.ctypes.data, lv.ctypes.data, 0, N, C, size, act, ig, stats.ctypes.data)
    else:
        dv = np.ascontiguousarray(t, dtype=dt)
        _C.dice_stats(code_of(dt), xv.ctypes.data, 0, dv.ctypes.data, N, C, size, act, ig, stats.ctypes.data)
    return stats


def _check_np_labels(lv, C, ig):
    valid = (lv >= 0) & (lv < C) | (lv == ig)
    if not valid.all():
        bad = int(lv.reshape(-1)[np.flatnonzero(~valid.reshape(-1))[0]])
        raise ValueError(f"target label {bad} is outside [0, {C}) and is not ignore_index")


# --- pairwise --------------------------------------------------------------------------------

def _pairwise(masks1, masks2, dice):
    if use_torch(masks1, masks2):
        torch = torch_module()
        ref = masks1 if is_tensor(masks1) else masks2
        a = masks1 if is_tensor(masks1) else torch.as_tensor(masks1, device=ref.device)
        b = masks2 if is_tensor(masks2) else torch.as_tensor(masks2, device=ref.device)
        return torch.ops.cvkernels.pairwise_masks(a, b, dice)
    a, b = as_numpy("masks1", masks1), as_numpy("masks2", masks2)
    for name, m in (("masks1", a), ("masks2", b)):
        if m.ndim != 3:
            raise ValueError(f"{name} must have shape (N, H, W), got {m.shape}")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"masks1 and masks2 must have the same (H, W), got {a.shape[1:]} and {b.shape[1:]}")
    au, bu = _np_u8(a), _np_u8(b)
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float64)
    sync_threads()
    _C.pairwise_masks(au.ctypes.data, a.shape[0], bu.ctypes.data, b.shape[0], a.shape[1], a.shape[2], dice, 1,
                      out.ctypes.data)
    return out


def pairwise_mask_iou(masks1, masks2):
    """IoU of every pair of binary masks: masks1 (N, H, W), masks2 (M, H, W) -> (N, M)
    float64 (torch: float32). Nonzero is foreground (floats: > 0.5); two empty masks score 0.
    Masks are packed to bits once; each pair ANDs and popcounts only the words where both
    bounding boxes overlap.

    Example:
        >>> import numpy as np, cvkernels
        >>> m = np.zeros((2, 4, 4), bool); m[0, :2] = True; m[1, :1] = True
        >>> cvkernels.pairwise_mask_iou(m, m)
        array([[1. , 0.5],
               [0.5, 1. ]])
    """
    return _pairwise(masks1, masks2, False)


def pairwise_mask_dice(masks1, masks2):
    """Dice of every pair of binary masks, as :func:`pairwise_mask_iou`."""
    return _pairwise(masks1, masks2, True)
