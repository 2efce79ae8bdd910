"""torch.ops.cvkernels mask operators: schemas, CPU/CUDA implementations (the launchers of
cvkernels._launch.masks with the torch adapter), fake kernels and the soft-Dice backward."""

from __future__ import annotations

import torch

from .._launch import masks as launch
from ._common import TORCH, impl, lib

lib.define("mask_counts(Tensor preds, Tensor target, int num_classes, str input_format, int ignore_index) -> (Tensor, Tensor, Tensor)")
lib.define("dice_stats(Tensor input, Tensor target, int activation, int ignore_index) -> Tensor")
lib.define("_dice_stats_backward(Tensor grad, Tensor input, Tensor target, int activation, int ignore_index) -> Tensor")
lib.define("pairwise_masks(Tensor masks1, Tensor masks2, bool dice) -> Tensor")


# --- counts ------------------------------------------------------------------------------------

def _mask_counts(preds, target, num_classes, input_format, ignore_index):
    nc = None if num_classes < 0 else num_classes
    ig = None if ignore_index == launch.NO_IGNORE else ignore_index
    return launch.counts(TORCH, preds.detach(), target.detach(), nc, input_format, ig)


impl("mask_counts", _mask_counts)


@torch.library.register_fake("cvkernels::mask_counts")
def _(preds, target, num_classes, input_format, ignore_index):
    TORCH.same_device(preds=preds, target=target)
    _, N, C, _ = launch.resolve_format(preds.shape, target.shape, None if num_classes < 0 else num_classes,
                                       input_format)
    return tuple(preds.new_empty((N, C), dtype=torch.int64) for _ in range(3))


# --- soft-Dice statistics ----------------------------------------------------------------------

impl("dice_stats", lambda input, target, activation, ignore_index: launch.dice_stats(
    TORCH, input, target, activation, ignore_index))


@torch.library.register_fake("cvkernels::dice_stats")
def _(input, target, activation, ignore_index):
    _, C, _, _ = launch.dice_spec(TORCH, input, target)
    return input.new_empty((C, 3), dtype=torch.float64)


def _dice_stats_backward(grad, input, target, activation, ignore_index):
    return launch.dice_stats_backward(TORCH, grad, input, target, activation, ignore_index).to(input.dtype)


impl("_dice_stats_backward", _dice_stats_backward)


@torch.library.register_fake("cvkernels::_dice_stats_backward")
def _(grad, input, target, activation, ignore_index):
    launch.dice_spec(TORCH, input, target)
    return torch.empty_like(input)


def _dice_setup(ctx, inputs, output):
    input, target, activation, ignore_index = inputs
    ctx.save_for_backward(input, target)
    ctx.args = (activation, ignore_index)


def _dice_backward(ctx, grad):
    input, target = ctx.saved_tensors
    gx = torch.ops.cvkernels._dice_stats_backward(grad, input, target, *ctx.args)
    return gx, None, None, None


torch.library.register_autograd("cvkernels::dice_stats", _dice_backward, setup_context=_dice_setup)


# --- pairwise ----------------------------------------------------------------------------------

impl("pairwise_masks", lambda masks1, masks2, dice: launch.pairwise(TORCH, masks1.detach(), masks2.detach(), dice,
                                                                    torch.float32))


@torch.library.register_fake("cvkernels::pairwise_masks")
def _(a, b, dice):
    TORCH.same_device(masks1=a, masks2=b)
    N, M = launch.pairwise_spec(a.shape, b.shape)
    return a.new_empty((N, M), dtype=torch.float32)
