"""torch.ops.cvkernels.dilated_conv2d and its backward operator, fake kernels and autograd.

padding is passed as (top, left, bottom, right) so that "same" padding with an even dilated
kernel (odd total) needs no special case in the kernels."""

from __future__ import annotations

import torch

from .._launch import conv as launch
from ._common import TORCH, impl, lib

lib.define(
    "dilated_conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[4] padding, int[2] dilation, "
    "int groups) -> Tensor"
)
lib.define(
    "_dilated_conv2d_backward(Tensor grad, Tensor input, Tensor weight, int[2] stride, int[4] padding, "
    "int[2] dilation, int groups, bool[3] output_mask) -> (Tensor, Tensor, Tensor)"
)


def _out_dtype(input, weight):
    dt = torch.promote_types(input.dtype, weight.dtype)
    return dt if dt.is_floating_point else torch.float64


def _forward_impl(input, weight, bias, stride, padding, dilation, groups):
    return launch.forward(TORCH, input, weight, bias, stride, padding, dilation, groups).to(_out_dtype(input, weight))


def _backward_impl(grad, input, weight, stride, padding, dilation, groups, output_mask):
    gx, gw, gb = launch.backward(TORCH, grad, input, weight, stride, padding, dilation, groups, output_mask)
    return gx.to(input.dtype), gw.to(weight.dtype), gb.to(_out_dtype(input, weight))


def _check(input, weight, bias, stride, padding, dilation, groups):
    TORCH.same_device(input=input, weight=weight, bias=bias)
    return launch.out_spec(input.shape, weight.shape, None if bias is None else bias.shape, stride, padding,
                           dilation, groups)


impl("dilated_conv2d", _forward_impl)
impl("_dilated_conv2d_backward", _backward_impl)


@torch.library.register_fake("cvkernels::dilated_conv2d")
def _(input, weight, bias, stride, padding, dilation, groups):
    shape = _check(input, weight, bias, stride, padding, dilation, groups)
    return input.new_empty(shape, dtype=_out_dtype(input, weight))


@torch.library.register_fake("cvkernels::_dilated_conv2d_backward")
def _(grad, input, weight, stride, padding, dilation, groups, output_mask):
    shape = _check(input, weight, None, stride, padding, dilation, groups)
    want_x, want_w, want_b = output_mask
    return (input.new_empty(input.shape if want_x else (0,)),
            weight.new_empty(weight.shape if want_w else (0,)),
            grad.new_empty((shape[1],) if want_b else (0,), dtype=_out_dtype(input, weight)))


def _setup(ctx, inputs, output):
    input, weight, bias, stride, padding, dilation, groups = inputs
    ctx.save_for_backward(input, weight)
    ctx.args = (list(stride), list(padding), list(dilation), groups)
    ctx.bias_dtype = None if bias is None else bias.dtype


def _backward(ctx, grad):
    input, weight = ctx.saved_tensors
    stride, padding, dilation, groups = ctx.args
    mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.bias_dtype is not None and ctx.needs_input_grad[2]]
    gx, gw, gb = torch.ops.cvkernels._dilated_conv2d_backward(grad, input, weight, stride, padding, dilation, groups,
                                                               mask)
    return (gx if mask[0] else None, gw if mask[1] else None, gb.to(ctx.bias_dtype) if mask[2] else None,
            None, None, None, None)


torch.library.register_autograd("cvkernels::dilated_conv2d", _backward, setup_context=_setup)
