"""torch.ops.cvkernels RoI operators: roi_align and roi_pool (torchvision's schemas), their
backward operators, fake kernels and autograd. Channels-last inputs are passed to the kernels
in place and get channels-last gradients."""

from __future__ import annotations

import torch

from .._roi_rules import batch_index_error, roi_dims
from ._common import code, compute_dtype, kernels, lib, stream_args

lib.define(
    "roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
    "int sampling_ratio, bool aligned) -> Tensor"
)
lib.define(
    "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
    "int batch_size, int channels, int height, int width, int sampling_ratio, bool aligned, bool channels_last) "
    "-> Tensor"
)
lib.define("roi_pool(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width) -> (Tensor, Tensor)")
lib.define(
    "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, int pooled_height, "
    "int pooled_width, int batch_size, int channels, int height, int width, bool channels_last) -> Tensor"
)


def _is_channels_last(x):
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def _check(input, rois, ph, pw):
    N, C, H, W, K = roi_dims(input.shape, rois.shape)
    if rois.device != input.device:
        raise ValueError(f"input and rois must be on the same device, got {input.device} and {rois.device}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"input must be a float tensor, got {input.dtype}")
    if rois.dtype.is_complex:
        raise TypeError(f"rois must be a real tensor, got {rois.dtype}")
    if ph < 0 or pw < 0:
        raise ValueError(f"output size must be >= 0, got ({ph}, {pw})")
    return N, C, H, W, K, compute_dtype("input", input.dtype)


def _check_batch_index(rois, n):
    if rois.shape[0] == 0:
        return
    idx = rois[:, 0]
    if not bool(((idx >= 0) & (idx < n)).all()):  # NaN fails both comparisons
        raise ValueError(batch_index_error(n))


def _prep(input, rois, ct):
    nhwc = _is_channels_last(input)
    x = input.to(ct)
    x = x.contiguous(memory_format=torch.channels_last) if nhwc else x.contiguous()
    return x, rois.to(ct).contiguous(), nhwc


def _deterministic(device):
    """The CUDA backward kernels take a deterministic flag (atomics otherwise); the CPU ones
    are always deterministic."""
    return (torch.are_deterministic_algorithms_enabled(),) if device.type == "cuda" else ()


def _grad_input_buffer(N, C, H, W, ct, device, nhwc):
    if nhwc:  # (N, H, W, C) memory seen as (N, C, H, W)
        return torch.empty((N, H, W, C), dtype=ct, device=device).permute(0, 3, 1, 2)
    return torch.empty((N, C, H, W), dtype=ct, device=device)


# --- roi_align -----------------------------------------------------------------------------

def _roi_align_impl(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    N, C, H, W, K, ct = _check(input, rois, pooled_height, pooled_width)
    _check_batch_index(rois, N)
    x, r, nhwc = _prep(input, rois, ct)
    out = torch.empty((K, C, pooled_height, pooled_width), dtype=ct, device=x.device)
    if out.numel():
        kernels(x.device).roi_align_forward(
            code(ct), x.data_ptr(), nhwc, r.data_ptr(), (N, C, H, W, K, pooled_height, pooled_width),
            spatial_scale, sampling_ratio, aligned, out.data_ptr(), *stream_args(x.device),
        )
    return out.to(input.dtype)


def _roi_align_backward_impl(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels, height,
                             width, sampling_ratio, aligned, channels_last):
    ct = compute_dtype("grad", grad.dtype)
    g = grad.to(ct).contiguous()
    r = rois.to(ct).contiguous()
    gi = _grad_input_buffer(batch_size, channels, height, width, ct, g.device, channels_last)
    kernels(g.device).roi_align_backward(
        code(ct), g.data_ptr(), r.data_ptr(), (batch_size, channels, height, width, r.shape[0], pooled_height,
                                               pooled_width),
        spatial_scale, sampling_ratio, aligned, channels_last, *_deterministic(g.device), gi.data_ptr(),
        *stream_args(g.device),
    )
    return gi.to(grad.dtype)


for _dev in ("CPU", "CUDA"):
    lib.impl("roi_align", _roi_align_impl, _dev)
    lib.impl("_roi_align_backward", _roi_align_backward_impl, _dev)


@torch.library.register_fake("cvkernels::roi_align")
def _(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    N, C, H, W, K, _ = _check(input, rois, pooled_height, pooled_width)
    return input.new_empty((K, C, pooled_height, pooled_width))


@torch.library.register_fake("cvkernels::_roi_align_backward")
def _(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels, height, width, sampling_ratio,
      aligned, channels_last):
    if channels_last:
        return grad.new_empty((batch_size, height, width, channels)).permute(0, 3, 1, 2)
    return grad.new_empty((batch_size, channels, height, width))


def _align_setup(ctx, inputs, output):
    input, rois, scale, ph, pw, sr, aligned = inputs
    ctx.save_for_backward(rois)
    ctx.args = (scale, ph, pw, *input.shape, sr, aligned, _is_channels_last(input))


def _align_backward(ctx, grad):
    (rois,) = ctx.saved_tensors
    scale, ph, pw, N, C, H, W, sr, aligned, nhwc = ctx.args
    gi = torch.ops.cvkernels._roi_align_backward(grad, rois, scale, ph, pw, N, C, H, W, sr, aligned, nhwc)
    return gi, None, None, None, None, None, None


torch.library.register_autograd("cvkernels::roi_align", _align_backward, setup_context=_align_setup)


# --- roi_pool ------------------------------------------------------------------------------

def _roi_pool_impl(input, rois, spatial_scale, pooled_height, pooled_width):
    N, C, H, W, K, ct = _check(input, rois, pooled_height, pooled_width)
    _check_batch_index(rois, N)
    x, r, nhwc = _prep(input, rois, ct)
    out = torch.empty((K, C, pooled_height, pooled_width), dtype=ct, device=x.device)
    argmax = torch.empty((K, C, pooled_height, pooled_width), dtype=torch.int32, device=x.device)
    if out.numel():
        kernels(x.device).roi_pool_forward(
            code(ct), x.data_ptr(), nhwc, r.data_ptr(), (N, C, H, W, K, pooled_height, pooled_width), spatial_scale,
            out.data_ptr(), argmax.data_ptr(), *stream_args(x.device),
        )
    return out.to(input.dtype), argmax


def _roi_pool_backward_impl(grad, rois, argmax, spatial_scale, pooled_height, pooled_width, batch_size, channels,
                            height, width, channels_last):
    ct = compute_dtype("grad", grad.dtype)
    g = grad.to(ct).contiguous()
    r = rois.to(ct).contiguous()
    a = argmax.to(torch.int32).contiguous()
    gi = _grad_input_buffer(batch_size, channels, height, width, ct, g.device, channels_last)
    kernels(g.device).roi_pool_backward(
        code(ct), g.data_ptr(), a.data_ptr(), r.data_ptr(),
        (batch_size, channels, height, width, r.shape[0], pooled_height, pooled_width), channels_last,
        *_deterministic(g.device), gi.data_ptr(), *stream_args(g.device),
    )
    return gi.to(grad.dtype)


for _dev in ("CPU", "CUDA"):
    lib.impl("roi_pool", _roi_pool_impl, _dev)
    lib.impl("_roi_pool_backward", _roi_pool_backward_impl, _dev)


@torch.library.register_fake("cvkernels::roi_pool")
def _(input, rois, spatial_scale, pooled_height, pooled_width):
    N, C, H, W, K, _ = _check(input, rois, pooled_height, pooled_width)
    shape = (K, C, pooled_height, pooled_width)
    return input.new_empty(shape), input.new_empty(shape, dtype=torch.int32)


@torch.library.register_fake("cvkernels::_roi_pool_backward")
def _(grad, rois, argmax, spatial_scale, pooled_height, pooled_width, batch_size, channels, height, width,
      channels_last):
    if channels_last:
        return grad.new_empty((batch_size, height, width, channels)).permute(0, 3, 1, 2)
    return grad.new_empty((batch_size, channels, height, width))


def _pool_setup(ctx, inputs, output):
    input, rois, scale, ph, pw = inputs
    ctx.save_for_backward(rois, output[1])
    ctx.args = (scale, ph, pw, *input.shape, _is_channels_last(input))
    ctx.mark_non_differentiable(output[1])


def _pool_backward(ctx, grad, grad_argmax):
    rois, argmax = ctx.saved_tensors
    scale, ph, pw, N, C, H, W, nhwc = ctx.args
    gi = torch.ops.cvkernels._roi_pool_backward(grad, rois, argmax, scale, ph, pw, N, C, H, W, nhwc)
    return gi, None, None, None, None


torch.library.register_autograd("cvkernels::roi_pool", _pool_backward, setup_context=_pool_setup)
