"""Training losses: sigmoid_focal_loss (torchvision.ops' signature and values), softmax_focal_loss
(multi-class, per pixel, class weights, ignore_index) and dice_ce_loss (nnU-Net's Dice + CE).
Each kernel is one pass that also writes the gradient, so the backward is a multiply."""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import losses as launch
from ._launch.arrays import NUMPY

__all__ = ["sigmoid_focal_loss", "softmax_focal_loss", "dice_ce_loss"]


@fe.public
def sigmoid_focal_loss(inputs, targets, alpha: float = 0.25, gamma: float = 2, reduction: str = "none"):
    """Focal loss of logits against binary (or soft) targets, as
    ``torchvision.ops.sigmoid_focal_loss`` (RetinaNet, Lin et al. 2017):
    ``a_t * BCE_with_logits(x, t) * (1 - p_t) ** gamma`` with ``p = sigmoid(x)``,
    ``p_t = p t + (1 - p)(1 - t)``, ``a_t = alpha t + (1 - alpha)(1 - t)`` (1 when alpha < 0).

    One pass over the inputs computes the loss and, when ``inputs`` requires grad, its
    derivative (torchvision's expression makes about ten passes forward and twenty backward);
    float32 uses a polynomial exp and log (relative error about 1e-7), float64 libm.

    Args:
        inputs: logits of any shape, float32 or float64 (float16 / bfloat16 computed in
            float32); numpy or torch (CPU; on CUDA the same formulas as torch elementwise ops,
            not fused yet).
        targets: the same shape, 0 / 1 (or soft) labels.
        alpha: weight of the positives in [0, 1], or negative for none. gamma: the focusing
            exponent (0, 1, 2 and 3 run as products).
        reduction: "none" | "mean" | "sum".

    Returns:
        The loss, elementwise ("none") or reduced, in the inputs' dtype. Differentiable with
        respect to inputs (not targets).

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.array([[2.0, -1.0]]); t = np.array([[1.0, 0.0]])
        >>> np.round(cvkernels.sigmoid_focal_loss(x, t), 6)
        array([[0.000451, 0.016994]])
    """
    launch.check_reduction(reduction)
    t = fe.tensors(inputs, targets)
    if t:
        torch = fe.torch_module()
        x, y = t
        with_grad = torch.is_grad_enabled() and x.requires_grad
        return fe.ops().sigmoid_focal_loss(x, y, float(alpha), float(gamma), reduction, with_grad)[0]
    x = fe.array("inputs", inputs)
    loss, _ = launch.sigmoid_focal_loss(NUMPY, x, fe.array("targets", targets), float(alpha), float(gamma), reduction,
                                        False)
    return np.asarray(loss, dtype=x.dtype if x.dtype.kind == "f" else loss.dtype)


@fe.public
def softmax_focal_loss(input, target, gamma: float = 2.0, weight=None, ignore_index: int = -100,
                       reduction: str = "mean"):
    """Multi-class (softmax) focal loss for classification and per-pixel segmentation:
    ``-w[t] * (1 - p_t) ** gamma * log p_t`` with ``p = softmax(input)`` over the classes, the
    class weights ``w`` (the focal loss' alpha, per class) and pixels labelled ``ignore_index``
    skipped. F.cross_entropy's arguments and conventions: with gamma = 0 it is
    ``F.cross_entropy(input, target, weight, ignore_index=..., reduction=...)`` ("mean" divides by
    the kept pixels' total weight). One pass computes the loss and, when ``input`` requires
    grad, its derivative.

    Args:
        input: (N, C) or (N, C, d1, ...) logits, float32 / float64 (half types in float32).
        target: (N,) or (N, d1, ...) integer labels in [0, C) or ignore_index.
        gamma: the focusing exponent (0: weighted cross-entropy).
        weight: optional (C,) class weights. reduction: "none" | "mean" | "sum".

    Returns:
        The loss: per pixel, shape (N, d1, ...) for "none"; else a scalar ("mean" of nothing
        kept is NaN, as cross_entropy's). Differentiable with respect to input; CUDA tensors
        are computed on the CPU (no CUDA kernel yet) and the result returned to their device.

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.array([[2.0, 0.0], [0.0, 0.0]]); t = np.array([0, 1])
        >>> round(float(cvkernels.softmax_focal_loss(x, t, gamma=0.0)), 6)  # cross-entropy
        0.410038
    """
    t = fe.tensors(input, target, weight)
    if t:
        torch = fe.torch_module()
        x, y, w = t
        device = x.device
        if x.is_cuda:  # no CUDA kernel yet: the CPU's (.cpu() is differentiable)
            x, y, w = x.cpu(), y.cpu(), None if w is None else w.cpu()
        with_grad = torch.is_grad_enabled() and x.requires_grad
        out = fe.ops().softmax_focal_loss(x, y, w, float(gamma), int(ignore_index), reduction, with_grad)[0]
        return out.to(device)
    x = fe.array("input", input)
    loss, _, _ = launch.softmax_focal_loss(NUMPY, x, fe.array("target", target),
                                           None if weight is None else fe.array("weight", weight), float(gamma),
                                           int(ignore_index), reduction, False)
    return np.asarray(loss, dtype=x.dtype if x.dtype.kind == "f" else loss.dtype)


@fe.public
def dice_ce_loss(input, target, weight_ce: float = 1.0, weight_dice: float = 1.0, class_weight=None,
                 smooth: float = 1e-5, ignore_index=None):
    """nnU-Net's training loss for segmentation (DC_and_CE_loss): ``weight_ce * cross-entropy
    + weight_dice * soft Dice loss``, both on the softmax of the logits; the cross-entropy
    weighted per class by class_weight (softmax_focal_loss with gamma 0, mean over the kept
    pixels' weights), the Dice loss cvkernels.dice_loss (1 - mean over classes of
    (2 sum p t + smooth) / (sum p + sum t + smooth), over the batch and the pixels).

    Args:
        input: (N, C, H, W) (or any (N, C, ...)) logits. target: (N, H, W) integer labels.
        weight_ce, weight_dice: the two terms' weights. class_weight: optional (C,) for the
            cross-entropy. smooth: the Dice smoothing. ignore_index: a label skipped by both.

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.zeros((1, 2, 2, 2)); t = np.zeros((1, 2, 2), np.int64)
        >>> round(float(cvkernels.dice_ce_loss(x, t, smooth=0.0)), 4)  # log 2 + (1 - (2/3 + 0) / 2)
        1.3598
    """
    from .mask_metrics import dice_loss

    ce = softmax_focal_loss(input, target, 0.0, class_weight, -100 if ignore_index is None else int(ignore_index),
                            "mean")
    dice = dice_loss(input, target, "softmax", None, float(smooth), 1e-7, ignore_index)
    return weight_ce * ce + weight_dice * dice
