"""torch.ops.cvkernels RoIAlign / RoIPool operators: schemas, CPU/CUDA implementations (the
launchers of cvkernels._launch.roi with the torch adapter), fake kernels and autograd."""

from __future__ import annotations

import torch

from .._launch import roi as launch
from ._common import TORCH, impl, lib

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


def _fake_check(input, rois, ph, pw):
    N, C, H, W, K = launch.spec(input.shape, rois.shape, ph, pw)
    TORCH.same_device(input=input, rois=rois)
    if not input.dtype.is_floating_point:
        raise TypeError(f"input must be a float tensor, got {input.dtype}")
    return (K, C, ph, pw)


def _deterministic(device) -> bool:
    """The CUDA backward uses atomics unless torch asks for deterministic algorithms; the CPU
    backward is always deterministic."""
    return device.type == "cuda" and torch.are_deterministic_algorithms_enabled()


def _as_nchw(gi, channels_last):
    return gi.permute(0, 3, 1, 2) if channels_last else gi


# --- roi_align -----------------------------------------------------------------------------

def _roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    out = launch.align(TORCH, input, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned)
    return out.to(input.dtype)


def _roi_align_backward(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels, height,
                        width, sampling_ratio, aligned, channels_last):
    gi = launch.align_backward(TORCH, grad, rois, (batch_size, channels, height, width), spatial_scale,
                               sampling_ratio, aligned, channels_last, _deterministic(grad.device))
    return _as_nchw(gi, channels_last).to(grad.dtype)


impl("roi_align", _roi_align)
impl("_roi_align_backward", _roi_align_backward)


@torch.library.register_fake("cvkernels::roi_align")
def _(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    return input.new_empty(_fake_check(input, rois, pooled_height, pooled_width))


def _fake_grad_input(grad, batch_size, channels, height, width, channels_last):
    if channels_last:
        return grad.new_empty((batch_size, height, width, channels)).permute(0, 3, 1, 2)
    return grad.new_empty((batch_size, channels, height, width))


@torch.library.register_fake("cvkernels::_roi_align_backward")
def _(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels, height, width, sampling_ratio,
      aligned, channels_last):
    return _fake_grad_input(grad, batch_size, channels, height, width, channels_last)


def _align_setup(ctx, inputs, output):
    input, rois, scale, ph, pw, sr, aligned = inputs
    ctx.save_for_backward(rois)
    ctx.args = (scale, ph, pw, *input.shape, sr, aligned, TORCH.is_channels_last(input))


def _align_backward(ctx, grad):
    (rois,) = ctx.saved_tensors
    scale, ph, pw, N, C, H, W, sr, aligned, nhwc = ctx.args
    gi = torch.ops.cvkernels._roi_align_backward(grad, rois, scale, ph, pw, N, C, H, W, sr, aligned, nhwc)
    return gi, None, None, None, None, None, None


torch.library.register_autograd("cvkernels::roi_align", _align_backward, setup_context=_align_setup)


# --- multi-scale roi_align (MultiScaleRoIAlign's pooling: one output for all levels) --------

lib.define(
    "multi_scale_roi_align(Tensor[] features, Tensor rois, Tensor levels, float[] scales, int pooled_height, "
    "int pooled_width, int sampling_ratio, bool aligned) -> Tensor"
)


def _multi_scale_roi_align(features, rois, levels, scales, pooled_height, pooled_width, sampling_ratio, aligned):
    out = launch.align_levels(TORCH, list(features), rois, levels, list(scales), pooled_height, pooled_width,
                              sampling_ratio, aligned)
    return out.to(features[0].dtype)


impl("multi_scale_roi_align", _multi_scale_roi_align)


@torch.library.register_fake("cvkernels::multi_scale_roi_align")
def _(features, rois, levels, scales, pooled_height, pooled_width, sampling_ratio, aligned):
    if len(features) == 0:
        raise ValueError("need at least one feature level")
    _fake_check(features[0], rois, pooled_height, pooled_width)
    return features[0].new_empty((rois.shape[0], features[0].shape[1], pooled_height, pooled_width))


def _levels_setup(ctx, inputs, output):
    features, rois, levels, scales, ph, pw, sr, aligned = inputs
    ctx.save_for_backward(rois, levels)
    ctx.args = ([(tuple(f.shape), TORCH.is_channels_last(f)) for f in features], list(scales), ph, pw, sr, aligned)


def _levels_backward(ctx, grad):
    rois, levels = ctx.saved_tensors
    shapes, scales, ph, pw, sr, aligned = ctx.args
    grads = []
    for level, ((shape, nhwc), scale) in enumerate(zip(shapes, scales)):
        rows = (levels == level).nonzero().reshape(-1)
        grads.append(torch.ops.cvkernels._roi_align_backward(grad[rows], rois[rows], scale, ph, pw, *shape, sr, aligned,
                                                             nhwc))
    return grads, None, None, None, None, None, None, None


torch.library.register_autograd("cvkernels::multi_scale_roi_align", _levels_backward, setup_context=_levels_setup)


# --- roi_pool ------------------------------------------------------------------------------

def _roi_pool(input, rois, spatial_scale, pooled_height, pooled_width):
    out, argmax = launch.pool(TORCH, input, rois, pooled_height, pooled_width, spatial_scale)
    return out.to(input.dtype), argmax


def _roi_pool_backward(grad, rois, argmax, spatial_scale, pooled_height, pooled_width, batch_size, channels,
                       height, width, channels_last):
    gi = launch.pool_backward(TORCH, grad, rois, argmax, (batch_size, channels, height, width), channels_last,
                              _deterministic(grad.device))
    return _as_nchw(gi, channels_last).to(grad.dtype)


impl("roi_pool", _roi_pool)
impl("_roi_pool_backward", _roi_pool_backward)


@torch.library.register_fake("cvkernels::roi_pool")
def _(input, rois, spatial_scale, pooled_height, pooled_width):
    shape = _fake_check(input, rois, pooled_height, pooled_width)
    return input.new_empty(shape), input.new_empty(shape, dtype=torch.int32)


@torch.library.register_fake("cvkernels::_roi_pool_backward")
def _(grad, rois, argmax, spatial_scale, pooled_height, pooled_width, batch_size, channels, height, width,
      channels_last):
    return _fake_grad_input(grad, batch_size, channels, height, width, channels_last)


def _pool_setup(ctx, inputs, output):
    input, rois, scale, ph, pw = inputs
    ctx.save_for_backward(rois, output[1])
    ctx.args = (scale, ph, pw, *input.shape, TORCH.is_channels_last(input))
    ctx.mark_non_differentiable(output[1])


def _pool_backward(ctx, grad, grad_argmax):
    rois, argmax = ctx.saved_tensors
    scale, ph, pw, N, C, H, W, nhwc = ctx.args
    gi = torch.ops.cvkernels._roi_pool_backward(grad, rois, argmax, scale, ph, pw, N, C, H, W, nhwc)
    return gi, None, None, None, None


torch.library.register_autograd("cvkernels::roi_pool", _pool_backward, setup_context=_pool_setup)


# --- quantized tensors (torchvision's QuantizedCPU roi_align) ---------------------------------

def _quantized_roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    """RoIAlign of the dequantized input, quantized back with the input's scale, zero point and
    dtype (as torchvision; it too takes one image per batch)."""
    if input.shape[0] > 1:
        raise ValueError("Only one image per batch is allowed in roi_align when quantized tensors are passed")
    r = rois.dequantize() if rois.is_quantized else rois
    out = torch.ops.cvkernels.roi_align(input.dequantize(), r, spatial_scale, pooled_height, pooled_width,
                                        sampling_ratio, aligned)
    return torch.quantize_per_tensor(out, input.q_scale(), input.q_zero_point(), input.dtype)


lib.impl("roi_align", _quantized_roi_align, "QuantizedCPU")
