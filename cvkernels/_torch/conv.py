"""torch.ops.cvkernels.dilated_conv2d and its backward operator, fake kernels and autograd.

padding is passed as (top, left, bottom, right) so that "same" padding with an even dilated
kernel (odd total) needs no special case in the kernels."""

from __future__ import annotations

import torch

from .._conv_rules import conv_shape
from ._common import code, compute_dtype, kernels, lib, stream_args

lib.define(
    "dilated_conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[4] padding, int[2] dilation, "
    "int groups) -> Tensor"
)
lib.define(
    "_dilated_conv2d_backward(Tensor grad, Tensor input, Tensor weight, int[2] stride, int[4] padding, "
    "int[2] dilation, int groups, bool[3] output_mask) -> (Tensor, Tensor, Tensor)"
)


def _check(input, weight, bias, stride, padding, dilation, groups):
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and t.dtype.is_complex:
            raise TypeError(f"{name} must be a real tensor, got {t.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.device != input.device:
            raise ValueError(f"input and {name} must be on the same device, got {input.device} and {t.device}")
    if len(stride) != 2 or len(padding) != 4 or len(dilation) != 2:
        raise ValueError("stride and dilation need 2 values, padding 4 (top, left, bottom, right)")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or groups < 1:
        raise ValueError(f"need stride >= 1, dilation >= 1, padding >= 0, groups >= 1, got "
                         f"{list(stride)}, {list(dilation)}, {list(padding)}, {groups}")
    return conv_shape(input.shape, weight.shape, None if bias is None else bias.shape, stride, padding, dilation,
                      groups)


def _out_dtype(input, weight):
    dt = torch.promote_types(input.dtype, weight.dtype)
    return dt if dt.is_floating_point else torch.float64


def _forward_impl(input, weight, bias, stride, padding, dilation, groups):
    s = _check(input, weight, bias, stride, padding, dilation, groups)
    odt = _out_dtype(input, weight)
    ct = compute_dtype("input", odt)
    x, w = input.to(ct).contiguous(), weight.to(ct).contiguous()
    b = None if bias is None else bias.to(ct).contiguous()
    out = torch.empty((s[0], s[4], s[14], s[15]), dtype=ct, device=x.device)
    if out.numel():
        kernels(x.device).conv2d_forward(code(ct), x.data_ptr(), w.data_ptr(), 0 if b is None else b.data_ptr(),
                                         out.data_ptr(), list(s), *stream_args(x.device))
    return out.to(odt)


def _backward_impl(grad, input, weight, stride, padding, dilation, groups, output_mask):
    s = _check(input, weight, None, stride, padding, dilation, groups)
    if tuple(grad.shape) != (s[0], s[4], s[14], s[15]):
        raise ValueError(f"grad must have the output's shape {(s[0], s[4], s[14], s[15])}, got {tuple(grad.shape)}")
    odt = _out_dtype(input, weight)
    ct = compute_dtype("input", odt)
    g = grad.to(ct).contiguous()
    x, w = input.to(ct).contiguous(), weight.to(ct).contiguous()
    want_x, want_w, want_b = output_mask
    gx = torch.empty(input.shape if want_x else (0,), dtype=ct, device=x.device)
    gw = torch.empty(weight.shape if want_w else (0,), dtype=ct, device=x.device)
    gb = torch.empty((s[4],) if want_b else (0,), dtype=ct, device=x.device)
    if any(output_mask):
        kernels(x.device).conv2d_backward(
            code(ct), g.data_ptr(), x.data_ptr(), w.data_ptr(), gx.data_ptr() if want_x else 0,
            gw.data_ptr() if want_w else 0, gb.data_ptr() if want_b else 0, list(s), *stream_args(x.device))
    return gx.to(input.dtype), gw.to(weight.dtype), gb.to(odt)


for _dev in ("CPU", "CUDA"):
    lib.impl("dilated_conv2d", _forward_impl, _dev)
    lib.impl("_dilated_conv2d_backward", _backward_impl, _dev)


@torch.library.register_fake("cvkernels::dilated_conv2d")
def _(input, weight, bias, stride, padding, dilation, groups):
    s = _check(input, weight, bias, stride, padding, dilation, groups)
    return input.new_empty((s[0], s[4], s[14], s[15]), dtype=_out_dtype(input, weight))


@torch.library.register_fake("cvkernels::_dilated_conv2d_backward")
def _(grad, input, weight, stride, padding, dilation, groups, output_mask):
    s = _check(input, weight, None, stride, padding, dilation, groups)
    want_x, want_w, want_b = output_mask
    return (input.new_empty(input.shape if want_x else (0,)),
            weight.new_empty(weight.shape if want_w else (0,)),
            grad.new_empty((s[4],) if want_b else (0,), dtype=_out_dtype(input, weight)))


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
