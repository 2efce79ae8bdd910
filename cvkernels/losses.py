"""Detection training losses: sigmoid_focal_loss (torchvision.ops' signature and values; one
fused pass that also writes the gradient, so the backward is a multiply)."""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import losses as launch
from ._launch.arrays import NUMPY

__all__ = ["sigmoid_focal_loss"]


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
