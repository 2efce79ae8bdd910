"""torch.ops.cvkernels loss operators: schemas, the CPU implementation (the launchers of
cvkernels._launch.losses with the torch adapter), fake kernels and autograd.

sigmoid_focal_loss returns the loss and, when asked (with_grad), the derivative of its
elements computed in the same pass; the backward only scales that by the incoming gradient."""

from __future__ import annotations

import torch

from .._launch import losses as launch
from ._common import TORCH, lib

lib.define("sigmoid_focal_loss(Tensor inputs, Tensor targets, float alpha, float gamma, str reduction, "
           "bool with_grad) -> (Tensor, Tensor)")


def _focal(inputs, targets, alpha, gamma, reduction, with_grad):
    loss, grad = launch.sigmoid_focal_loss(TORCH, inputs, targets, alpha, gamma, reduction, with_grad)
    return loss.to(inputs.dtype), grad


lib.impl("sigmoid_focal_loss", _focal, "CPU")


def _focal_cuda(inputs, targets, alpha, gamma, reduction, with_grad):
    """No CUDA kernel yet: focal.h's loss and derivative as torch elementwise ops."""
    cdt, _ = launch.focal_spec(TORCH, inputs, targets, reduction)
    x, t = inputs.detach().to(cdt), targets.detach().to(cdt)
    p = torch.sigmoid(x)
    ce = x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))
    m = 1 - (p * t + (1 - p) * (1 - t))
    a_t = alpha * t + (1 - alpha) * (1 - t) if alpha >= 0 else torch.ones_like(t)
    loss = a_t * (ce * m.pow(gamma))
    grad = x.new_empty((0,))
    if with_grad:
        dm = gamma * m.pow(gamma - 1) if gamma != 0 else torch.zeros_like(m)
        grad = a_t * ((p - t) * m.pow(gamma) - ce * dm * ((2 * t - 1) * (p * (1 - p))))
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss.to(inputs.dtype), grad


lib.impl("sigmoid_focal_loss", _focal_cuda, "CUDA")


@torch.library.register_fake("cvkernels::sigmoid_focal_loss")
def _(inputs, targets, alpha, gamma, reduction, with_grad):
    cdt, shape = launch.focal_spec(TORCH, inputs, targets, reduction)
    grad = inputs.new_empty(tuple(inputs.shape) if with_grad else (0,), dtype=cdt)
    return inputs.new_empty(shape), grad


def _focal_setup(ctx, inputs, output):
    x, _, _, _, reduction, with_grad = inputs
    ctx.save_for_backward(output[1])
    ctx.reduction, ctx.numel, ctx.dtype, ctx.with_grad = reduction, x.numel(), x.dtype, with_grad
    ctx.mark_non_differentiable(output[1])


def _focal_backward(ctx, grad_loss, _grad_grad):
    (grad,) = ctx.saved_tensors
    if not ctx.with_grad:
        raise RuntimeError("cvkernels.sigmoid_focal_loss ran without its gradient (inputs did not require grad)")
    g = grad_loss.to(grad.dtype)
    if ctx.reduction == "mean":
        g = g / ctx.numel
    return (g * grad).to(ctx.dtype), None, None, None, None, None


torch.library.register_autograd("cvkernels::sigmoid_focal_loss", _focal_backward, setup_context=_focal_setup)


lib.define("softmax_focal_loss(Tensor input, Tensor target, Tensor? weight, float gamma, int ignore_index, "
           "str reduction, bool with_grad) -> (Tensor, Tensor, Tensor)")


def _softmax_focal(input, target, weight, gamma, ignore_index, reduction, with_grad):
    loss, grad, wsum = launch.softmax_focal_loss(TORCH, input, target, weight, gamma, ignore_index, reduction,
                                                 with_grad)
    return loss.to(input.dtype), grad, wsum


lib.impl("softmax_focal_loss", _softmax_focal, "CPU")


@torch.library.register_fake("cvkernels::softmax_focal_loss")
def _(input, target, weight, gamma, ignore_index, reduction, with_grad):
    _, cdt, shape = launch.softmax_focal_spec(TORCH, input, target, weight, reduction)
    grad = input.new_empty(tuple(input.shape) if with_grad else (0,), dtype=cdt)
    return input.new_empty(shape), grad, input.new_empty((), dtype=cdt)


def _softmax_focal_setup(ctx, inputs, output):
    x, _, _, _, _, reduction, with_grad = inputs
    ctx.save_for_backward(output[1], output[2])
    ctx.reduction, ctx.dtype, ctx.with_grad = reduction, x.dtype, with_grad
    ctx.mark_non_differentiable(output[1], output[2])


def _softmax_focal_backward(ctx, grad_loss, _grad_grad, _grad_wsum):
    grad, wsum = ctx.saved_tensors
    if not ctx.with_grad:
        raise RuntimeError("cvkernels.softmax_focal_loss ran without its gradient (input did not require grad)")
    g = grad_loss.to(grad.dtype)
    if ctx.reduction == "none":
        g = g.unsqueeze(1)  # (N, d1, ...) -> over the classes
    elif ctx.reduction == "mean":
        g = g / wsum
    return (g * grad).to(ctx.dtype), None, None, None, None, None, None


torch.library.register_autograd("cvkernels::softmax_focal_loss", _softmax_focal_backward,
                                setup_context=_softmax_focal_setup)
