"""torch.ops.cvkernels mask operators: mask_counts (per sample and class counts behind
dice_score / iou_score), dice_stats (soft-Dice statistics, differentiable) and pairwise_masks.
CPU implementations run the C++ kernels on the tensors' memory; CUDA ones run the CUDA
kernels (compiled, not yet run on a GPU), with torch expressions for the cases those do not
cover (mixed inputs, more than 64 classes in dice_stats)."""

from __future__ import annotations

import torch

from .. import _C, _threads
from .._dice_rules import dice_dims
from .._mask_rules import resolve_format
from ..masks import _check_np_labels, _np_counts, _np_dice_stats, _np_u8
from ._common import compute_dtype, kernels, lib, stream_args

lib.define("mask_counts(Tensor preds, Tensor target, int num_classes, str input_format, int ignore_index) -> (Tensor, Tensor, Tensor)")
lib.define("dice_stats(Tensor input, Tensor target, int activation, int ignore_index) -> Tensor")
lib.define("_dice_stats_backward(Tensor grad, Tensor input, Tensor target, int activation, int ignore_index) -> Tensor")
lib.define("pairwise_masks(Tensor masks1, Tensor masks2, bool dice) -> Tensor")

_NO_IGNORE = -(2**62)


def _np(x):
    return x.detach().contiguous().numpy()


def _same_device(a, b, na, nb):
    if a.device != b.device:
        raise ValueError(f"{na} and {nb} must be on the same device, got {a.device} and {b.device}")


# --- counts ------------------------------------------------------------------------------------

def _counts_cpu(preds, target, num_classes, input_format, ignore_index):
    _same_device(preds, target, "preds", "target")
    nc = None if num_classes < 0 else num_classes
    ig = None if ignore_index == _NO_IGNORE else ignore_index
    p = _np(preds if preds.dtype != torch.bfloat16 else preds.float())
    t = _np(target if target.dtype != torch.bfloat16 else target.float())
    return tuple(torch.from_numpy(x) for x in _np_counts(p, t, nc, input_format, ig))


def _to_classes(x, fmt_side, C):
    """(N, C, size) bool class membership of one side, with torch ops (CUDA path)."""
    if fmt_side == "labels":
        return torch.nn.functional.one_hot(x, C).movedim(-1, 1).bool()
    if x.dtype.is_floating_point:
        return torch.nn.functional.one_hot(x.argmax(1), C).movedim(-1, 1).bool()
    return x != 0


def _counts_torch(preds, target, num_classes, input_format, ignore_index):
    _same_device(preds, target, "preds", "target")
    nc = None if num_classes < 0 else num_classes
    fmt, N, C, size = resolve_format(preds.shape, target.shape, nc, input_format)
    if fmt == "binary":
        p = preds.reshape(N, 1, size)
        t = target.reshape(N, 1, size)
        p = p > 0.5 if p.dtype.is_floating_point else p != 0
        t = t > 0.5 if t.dtype.is_floating_point else t != 0
        keep = torch.ones_like(t[:, 0])
    else:
        p = preds.reshape(N, -1, size) if preds.dim() == 4 else preds.reshape(N, size)
        t = target.reshape(N, -1, size) if target.dim() == 4 else target.reshape(N, size)
        keep = (t != ignore_index) if t.dim() == 2 else torch.ones_like(t[:, 0], dtype=torch.bool)
        for name, x in (("preds", p), ("target", t)):
            if x.dim() == 2:
                bad = ((x < 0) | (x >= C)) & keep
                if bool(bad.any()):
                    raise ValueError(f"label {int(x[bad][0])} is outside [0, {C}) (num_classes={C})")
        p = _to_classes(torch.where(keep, p, 0) if p.dim() == 2 else p, "labels" if p.dim() == 2 else "planes", C)
        t = _to_classes(torch.where(keep, t, 0) if t.dim() == 2 else t, "labels" if t.dim() == 2 else "planes", C)
    k = keep.unsqueeze(1)
    return ((p & t & k).sum(-1), (p & k).sum(-1), (t & k).sum(-1))


def _u8_planes(x):
    return (x > 0.5 if x.dtype.is_floating_point else x != 0).to(torch.uint8).contiguous()


def _cuda_argmax(x):
    N, C = x.shape[:2]
    xs = x.float().contiguous() if x.dtype in (torch.float16, torch.bfloat16) else x.contiguous()
    out = torch.empty((N,) + tuple(x.shape[2:]), dtype=torch.int64, device=x.device)
    kernels(x.device).mask_argmax(0 if xs.dtype == torch.float32 else 1, xs.data_ptr(), N, C, xs[0, 0].numel(),
                                  out.data_ptr(), *stream_args(x.device))
    return out


def _counts_cuda(preds, target, num_classes, input_format, ignore_index):
    _same_device(preds, target, "preds", "target")
    nc = None if num_classes < 0 else num_classes
    fmt, N, C, size = resolve_format(preds.shape, target.shape, nc, input_format)
    dev = preds.device
    out = [torch.empty((N, C), dtype=torch.int64, device=dev) for _ in range(3)]
    if fmt == "one-hot" and preds.dtype.is_floating_point and target.dtype.is_floating_point:
        fmt, preds, target = "index", _cuda_argmax(preds), _cuda_argmax(target)
    if fmt in ("binary", "one-hot") and not (preds.dtype.is_floating_point ^ target.dtype.is_floating_point):
        p, t = _u8_planes(preds.reshape(N * C, size)), _u8_planes(target.reshape(N * C, size))
        kernels(dev).mask_binary_counts(p.data_ptr(), t.data_ptr(), N * C, size, *(o.data_ptr() for o in out),
                                        *stream_args(dev))
        return tuple(out)
    if fmt == "index":
        p = preds.to(torch.int64).contiguous()
        t = target.to(torch.int64).contiguous()
        bad = torch.empty(1, dtype=torch.int64, device=dev)
        kernels(dev).mask_label_counts(p.data_ptr(), t.data_ptr(), N, size, C, ignore_index,
                                       *(o.data_ptr() for o in out), bad.data_ptr(), *stream_args(dev))
        at = int(bad.item())
        if at >= 0:
            tv, pv = int(t.reshape(-1)[at]), int(p.reshape(-1)[at])
            value = tv if not 0 <= tv < C else pv
            raise ValueError(f"label {value} is outside [0, {C}) (num_classes={C}); pixels to skip need ignore_index")
        return tuple(out)
    return _counts_torch(preds, target, num_classes, input_format, ignore_index)


lib.impl("mask_counts", _counts_cpu, "CPU")
lib.impl("mask_counts", _counts_cuda, "CUDA")


@torch.library.register_fake("cvkernels::mask_counts")
def _(preds, target, num_classes, input_format, ignore_index):
    _same_device(preds, target, "preds", "target")
    _, N, C, _ = resolve_format(preds.shape, target.shape, None if num_classes < 0 else num_classes, input_format)
    return tuple(preds.new_empty((N, C), dtype=torch.int64) for _ in range(3))


# --- soft-Dice statistics ----------------------------------------------------------------------

def _dice_meta(input, target):
    _same_device(input, target, "input", "target")
    compute_dtype("input", input.dtype)
    if not input.dtype.is_floating_point:
        raise TypeError(f"input must be floating, got {input.dtype}")
    labels = not target.dtype.is_floating_point and target.dim() == input.dim() - 1
    return dice_dims(input.shape, target.shape, labels)


def _dice_stats_cpu(input, target, activation, ignore_index):
    _dice_meta(input, target)
    x = input.detach()
    x = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    return torch.from_numpy(_np_dice_stats(_np(x), _np(target if target.dtype != torch.bfloat16 else target.float()),
                                           activation, ignore_index))


def _probs(x, activation):
    if activation == 2:
        return torch.softmax(x, dim=1)
    if activation == 1:
        return torch.sigmoid(x)
    return x


def _dense_target(input, target, ignore_index):
    N, C, size, labels = _dice_meta(input, target)
    if labels:
        keep = (target != ignore_index).reshape(N, 1, size)
        lab = torch.where(keep[:, 0], target.reshape(N, size), 0)
        bad = ((lab < 0) | (lab >= C)) & keep[:, 0]
        if bool(bad.any()):
            raise ValueError(f"target label {int(lab[bad][0])} is outside [0, {C}) and is not ignore_index")
        t = torch.nn.functional.one_hot(lab, C).movedim(-1, 1).to(torch.float64) * keep
        return t, keep.to(torch.float64)
    return target.reshape(N, C, size).to(torch.float64), None


def _dice_stats_torch(input, target, activation, ignore_index):
    N, C, size, _ = _dice_meta(input, target)
    p = _probs(input.detach().to(torch.float64), activation).reshape(N, C, size)
    t, keep = _dense_target(input, target, ignore_index)
    pk = p if keep is None else p * keep
    return torch.stack([(p * t).sum((0, 2)), pk.sum((0, 2)), t.sum((0, 2))], dim=1)


def _cuda_dice_args(input, target, ignore_index):
    N, C, size, labels = _dice_meta(input, target)
    ct = torch.float32 if input.dtype in (torch.float16, torch.bfloat16) else input.dtype
    x = input.detach().to(ct).contiguous()
    if labels:
        lab = target.to(torch.int64).contiguous()
        bad = ((lab < 0) | (lab >= C)) & (lab != ignore_index)
        if bool(bad.any()):
            raise ValueError(f"target label {int(lab[bad][0])} is outside [0, {C}) and is not ignore_index")
        return N, C, size, ct, x, lab, None
    return N, C, size, ct, x, None, target.detach().to(ct).contiguous()


def _dice_stats_cuda(input, target, activation, ignore_index):
    N, C, size, labels = _dice_meta(input, target)
    if C > 64:
        return _dice_stats_torch(input, target, activation, ignore_index)
    N, C, size, ct, x, lab, dense = _cuda_dice_args(input, target, ignore_index)
    mod = kernels(x.device)
    partial = torch.empty((mod.dice_stats_blocks(N * size), C, 3), dtype=torch.float64, device=x.device)
    stats = torch.empty((C, 3), dtype=torch.float64, device=x.device)
    mod.dice_stats(0 if ct == torch.float32 else 1, x.data_ptr(), 0 if lab is None else lab.data_ptr(),
                   0 if dense is None else dense.data_ptr(), N, C, size, activation, ignore_index, partial.data_ptr(),
                   stats.data_ptr(), *stream_args(x.device))
    return stats


lib.impl("dice_stats", _dice_stats_cpu, "CPU")
lib.impl("dice_stats", _dice_stats_cuda, "CUDA")


@torch.library.register_fake("cvkernels::dice_stats")
def _(input, target, activation, ignore_index):
    N, C, size, _ = _dice_meta(input, target)
    return input.new_empty((C, 3), dtype=torch.float64)


def _dice_backward_cpu(grad, input, target, activation, ignore_index):
    N, C, size, labels = _dice_meta(input, target)
    ct = torch.float32 if input.dtype in (torch.float16, torch.bfloat16) else input.dtype
    x = input.detach().to(ct).contiguous()
    g = grad.detach().to(torch.float64).contiguous()
    gx = torch.empty_like(x)
    _threads.sync()
    code = 0 if ct == torch.float32 else 1
    if labels:
        lab = target.detach().to(torch.int64).contiguous()
        _check_np_labels(lab.numpy(), C, ignore_index)
        _C.dice_stats_backward(code, x.data_ptr(), lab.data_ptr(), 0, N, C, size, activation, ignore_index,
                               g.data_ptr(), gx.data_ptr())
    else:
        dense = target.detach().to(ct).contiguous()
        _C.dice_stats_backward(code, x.data_ptr(), 0, dense.data_ptr(), N, C, size, activation, ignore_index,
                               g.data_ptr(), gx.data_ptr())
    return gx.to(input.dtype)


def _dice_backward_torch(grad, input, target, activation, ignore_index):
    N, C, size, _ = _dice_meta(input, target)
    with torch.enable_grad():
        x = input.detach().to(torch.float64).requires_grad_()
        p = _probs(x, activation).reshape(N, C, size)
        t, keep = _dense_target(input, target, ignore_index)
        pk = p if keep is None else p * keep
        stats = torch.stack([(p * t).sum((0, 2)), pk.sum((0, 2)), t.sum((0, 2))], dim=1)
        (gx,) = torch.autograd.grad(stats, x, grad.to(torch.float64))
    return gx.to(input.dtype)


def _dice_backward_cuda(grad, input, target, activation, ignore_index):
    N, C, size, labels = _dice_meta(input, target)
    if C > 64:
        return _dice_backward_torch(grad, input, target, activation, ignore_index)
    N, C, size, ct, x, lab, dense = _cuda_dice_args(input, target, ignore_index)
    g = grad.detach().to(torch.float64).contiguous()
    gx = torch.empty_like(x)
    kernels(x.device).dice_stats_backward(0 if ct == torch.float32 else 1, x.data_ptr(),
                                          0 if lab is None else lab.data_ptr(), 0 if dense is None else dense.data_ptr(),
                                          N, C, size, activation, ignore_index, g.data_ptr(), gx.data_ptr(),
                                          *stream_args(x.device))
    return gx.to(input.dtype)


lib.impl("_dice_stats_backward", _dice_backward_cpu, "CPU")
lib.impl("_dice_stats_backward", _dice_backward_cuda, "CUDA")


@torch.library.register_fake("cvkernels::_dice_stats_backward")
def _(grad, input, target, activation, ignore_index):
    _dice_meta(input, target)
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

def _pairwise_meta(a, b):
    _same_device(a, b, "masks1", "masks2")
    for name, m in (("masks1", a), ("masks2", b)):
        if m.dim() != 3:
            raise ValueError(f"{name} must have shape (N, H, W), got {tuple(m.shape)}")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"masks1 and masks2 must have the same (H, W), got {tuple(a.shape[1:])} and {tuple(b.shape[1:])}")


def _pairwise_cpu(a, b, dice):
    _pairwise_meta(a, b)
    au, bu = _np_u8(_np(a)), _np_u8(_np(b))
    out = torch.empty((a.shape[0], b.shape[0]), dtype=torch.float32)
    _threads.sync()
    _C.pairwise_masks(au.ctypes.data, a.shape[0], bu.ctypes.data, b.shape[0], a.shape[1], a.shape[2], dice, 0,
                      out.data_ptr())
    return out


def _pairwise_torch(a, b, dice):
    _pairwise_meta(a, b)
    fa = (a > 0.5 if a.dtype.is_floating_point else a != 0).reshape(a.shape[0], -1).float()
    fb = (b > 0.5 if b.dtype.is_floating_point else b != 0).reshape(b.shape[0], -1).float()
    inter = fa @ fb.T
    sa, sb = fa.sum(1, keepdim=True), fb.sum(1, keepdim=True).T
    den = sa + sb if dice else sa + sb - inter
    num = 2 * inter if dice else inter
    return torch.where(den > 0, num / den.clamp(min=1), torch.zeros_like(num))


def _pairwise_cuda(a, b, dice):
    _pairwise_meta(a, b)
    N, M, H, W = a.shape[0], b.shape[0], a.shape[1], a.shape[2]
    au, bu = _u8_planes(a), _u8_planes(b)
    out = torch.empty((N, M), dtype=torch.float32, device=a.device)
    bits = torch.empty(((N + M) * H * ((W + 63) // 64),), dtype=torch.int64, device=a.device)
    info = torch.empty(((N + M) * 5,), dtype=torch.int64, device=a.device)
    kernels(a.device).pairwise_masks(au.data_ptr(), N, bu.data_ptr(), M, H, W, dice, 0, out.data_ptr(),
                                     bits.data_ptr(), info.data_ptr(), *stream_args(a.device))
    return out


lib.impl("pairwise_masks", _pairwise_cpu, "CPU")
lib.impl("pairwise_masks", _pairwise_cuda, "CUDA")


@torch.library.register_fake("cvkernels::pairwise_masks")
def _(a, b, dice):
    _pairwise_meta(a, b)
    return a.new_empty((a.shape[0], b.shape[0]), dtype=torch.float32)
