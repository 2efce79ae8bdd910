"""Mask metrics and losses: dice_score, iou_score (Jaccard), dice_loss, and pairwise IoU /
Dice of binary masks. Numpy arrays and torch tensors; every input is read once.

The scores come from per (sample, class) counts I (intersection), P (prediction), T
(target):  dice = (2 I + smooth) / (P + T + smooth),  iou = (I + smooth) / (P + T - I + smooth).
A class absent from both prediction and target (denominator 0) scores `zero_division`, NaN by
default: undefined, and left out of "macro" averages (torchmetrics' rule). With smooth > 0 it
scores 1.
"""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import masks as launch
from ._launch.arrays import NUMPY

__all__ = ["dice_score", "iou_score", "dice_loss", "pairwise_mask_iou", "pairwise_mask_dice"]


def _score(kind, preds, target, num_classes, include_background, average, input_format, aggregation_level,
           ignore_index, smooth, zero_division):
    average = launch.check_average(average, aggregation_level)
    launch.check_num_classes(num_classes)
    if not isinstance(include_background, bool):
        raise TypeError(f"include_background must be a bool, got {type(include_background).__name__}")
    smooth = float(smooth)
    if not smooth >= 0:
        raise ValueError(f"smooth must be >= 0, got {smooth}")
    args = (kind, include_background, average, aggregation_level, ignore_index, smooth, zero_division)
    t = fe.tensors(preds, target)
    if t is None:
        I, P, T = launch.counts(NUMPY, fe.array("preds", preds), fe.array("target", target), num_classes,
                                input_format, ignore_index)
        return launch.scores(np, I, P, T, *args)
    torch = fe.torch_module()
    ig = launch.NO_IGNORE if ignore_index is None else int(ignore_index)
    nc = -1 if num_classes is None else int(num_classes)
    I, P, T = fe.ops().mask_counts(*t, nc, input_format, ig)
    if I.device.type == "cpu" and not torch.compiler.is_compiling():
        # (N, C) counts: numpy's small-array ops cost about a microsecond each, torch's ten
        return torch.from_numpy(launch.scores(np, I.numpy(), P.numpy(), T.numpy(), *args))
    return launch.scores(torch, I, P, T, *args)


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


@fe.public
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


@fe.public
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

def _loss_from_stats(stats, weight, smooth, eps, xp):
    inter, psum, tsum = stats[:, 0], stats[:, 1], stats[:, 2]
    den = psum + tsum + smooth
    den = xp.clip(den, eps, None) if xp is np else den.clamp(min=eps)
    dice = (2 * inter + smooth) / den
    per_class = 1 - dice
    if weight is None:
        return per_class.mean()
    return (per_class * weight).sum() / weight.sum()


@fe.public
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
        >>> round(float(cvkernels.dice_loss(x, t)), 4)  # p = 0.5: class 0 dice 2/3, class 1 dice 0
        0.6667
    """
    if activation not in launch.ACTIVATIONS:
        raise ValueError(f"activation must be 'softmax', 'sigmoid' or None, got {activation!r}")
    act = launch.ACTIVATIONS[activation]
    ig = launch.NO_IGNORE if ignore_index is None else int(ignore_index)
    t = fe.tensors(input, target)
    if t:
        torch = fe.torch_module()
        stats = fe.ops().dice_stats(*t, act, ig)
        w = None if weight is None else torch.as_tensor(weight, dtype=stats.dtype, device=stats.device)
        return _loss_from_stats(stats, w, float(smooth), float(eps), torch).to(t[0].dtype)
    x = fe.array("input", input)
    stats = launch.dice_stats(NUMPY, x, fe.array("target", target), act, ig)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    return np.asarray(_loss_from_stats(stats, w, float(smooth), float(eps), np), dtype=x.dtype)[()]


def _pairwise(masks1, masks2, dice):
    t = fe.tensors(masks1, masks2)
    if t:
        return fe.ops().pairwise_masks(*t, dice)
    return launch.pairwise(NUMPY, fe.array("masks1", masks1), fe.array("masks2", masks2), dice, NUMPY.float64)


@fe.public
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


@fe.public
def pairwise_mask_dice(masks1, masks2):
    """Dice of every pair of binary masks, as :func:`pairwise_mask_iou`."""
    return _pairwise(masks1, masks2, True)
