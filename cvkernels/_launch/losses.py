"""Launchers of the loss kernels (csrc/losses/): argument rules, output spec, one call into _C."""

from __future__ import annotations

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:  # torchvision's message
        raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: 'none', "
                         "'mean', 'sum'")


def focal_spec(xp, inputs, targets, reduction: str):
    """The compute dtype and the output shape, after checking the arguments."""
    check_reduction(reduction)
    xp.same_device(inputs=inputs, targets=targets)
    if not xp.is_float(inputs.dtype):
        raise TypeError(f"inputs must be floating-point logits, got {inputs.dtype}")
    if tuple(targets.shape) != tuple(inputs.shape):
        raise ValueError(f"targets must have the shape of inputs {tuple(inputs.shape)}, got {tuple(targets.shape)}")
    cdt = xp.compute_dtype("inputs", inputs.dtype)
    return cdt, (tuple(inputs.shape) if reduction == "none" else ())


def sigmoid_focal_loss(xp, inputs, targets, alpha: float, gamma: float, reduction: str, with_grad: bool):
    """(loss, grad): the loss (elementwise for "none", else a 0-d sum or mean) in the compute
    dtype, and d sum(loss elements) / d inputs when with_grad (else an empty array)."""
    cdt, out_shape = focal_spec(xp, inputs, targets, reduction)
    x = xp.contiguous(xp.detach(inputs), cdt)
    t = xp.contiguous(xp.detach(targets), cdt)
    loss = xp.empty(out_shape, cdt, x) if reduction == "none" else None
    grad = xp.empty(tuple(inputs.shape), cdt, x) if with_grad else xp.empty((0,), cdt, x)
    total = xp.kernels(x).sigmoid_focal_loss(xp.view(x), xp.view(t), float(alpha), float(gamma),
                                             None if loss is None else xp.view(loss),
                                             xp.view(grad) if with_grad else None, xp.stream(x))
    if loss is None:
        n = xp.numel(x)
        value = total if reduction == "sum" else (total / n if n else float("nan"))
        loss = xp.full((), value, cdt, x)
    return loss, grad
