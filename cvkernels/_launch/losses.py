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


def softmax_focal_spec(xp, input, target, weight, reduction: str):
    """(N, C, S), the compute dtype and the loss shape, after checking the arguments."""
    check_reduction(reduction)
    xp.same_device(input=input, target=target, weight=weight)
    shape = tuple(int(v) for v in input.shape)
    if len(shape) < 2:
        raise ValueError(f"input must be (N, C) or (N, C, d1, ...), got shape {shape}")
    if tuple(target.shape) != shape[:1] + shape[2:]:
        raise ValueError(f"target must have the shape (N, d1, ...) = {shape[:1] + shape[2:]}, got {tuple(target.shape)}")
    if not xp.is_float(input.dtype):
        raise TypeError(f"input must be floating-point logits, got {input.dtype}")
    if not xp.is_integer(target.dtype):
        raise TypeError(f"target must hold integer class labels, got {target.dtype}")
    if weight is not None and tuple(weight.shape) != (shape[1],):
        raise ValueError(f"weight must have shape (C,) = ({shape[1]},), got {tuple(weight.shape)}")
    N, C = shape[0], shape[1]
    S = 1
    for v in shape[2:]:
        S *= v
    out = shape[:1] + shape[2:] if reduction == "none" else ()
    return (N, C, S), xp.compute_dtype("input", input.dtype), out


def softmax_focal_loss(xp, input, target, weight, gamma: float, ignore_index: int, reduction: str, with_grad: bool):
    """(loss, grad, weight_sum): the loss (per pixel for "none", else the sum or the weighted
    mean: sum / sum of the kept pixels' weights, as cross_entropy), d sum(loss) / d input when
    with_grad (else empty), and that weight sum (0-d, the compute dtype)."""
    (N, C, S), cdt, out_shape = softmax_focal_spec(xp, input, target, weight, reduction)
    x = xp.contiguous(xp.detach(input), cdt).reshape(N, C, S)
    t = xp.contiguous(xp.detach(target), xp.int64).reshape(N, S)
    w = None if weight is None else xp.contiguous(xp.detach(weight), cdt)
    loss = xp.empty((N, S), cdt, x) if reduction == "none" else None
    grad = xp.empty((N, C, S), cdt, x) if with_grad else xp.empty((0,), cdt, x)
    total, wsum = xp.kernels(x).softmax_focal_loss(xp.view(x), xp.view(t), None if w is None else xp.view(w),
                                                   float(gamma), int(ignore_index),
                                                   None if loss is None else xp.view(loss),
                                                   xp.view(grad) if with_grad else None, xp.stream(x))
    if loss is None:
        loss = xp.full((), total if reduction == "sum" else (total / wsum if wsum else float("nan")), cdt, x)
    else:
        loss = loss.reshape(out_shape)
    if with_grad:
        grad = grad.reshape(tuple(input.shape))
    return loss, grad, xp.full((), wsum, cdt, x)
