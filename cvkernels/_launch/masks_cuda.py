"""The GPU side of the mask metrics: kernels of cvkernels._C_cuda where they exist (binary and
label counts (up to 4,096 classes), soft-Dice statistics for up to 64 classes, pairwise masks),
torch formulas for the rest. Used by the launchers in masks.py for CUDA tensors only."""

from __future__ import annotations

from .mask_inputs import ACTIVATIONS, argmax, check_labels, dice_spec, u8

# The soft-Dice CUDA kernels keep a class's sums in shared memory: up to this many classes.
MAX_DICE_CLASSES = 64
# The label-count kernel keeps three counters per class in shared memory (48 KiB): beyond this
# many classes, label_counts_bincount counts instead.
MAX_LABEL_CLASSES = 4096


def label_counts_bincount(torch, p, t, N, C, ignore_index):
    """(I, P, T) int64 (N, C) of (N, size) int64 label maps by torch.bincount (memory N*C, any
    number of classes): what the label-count kernel computes. Pixels whose target is
    ignore_index are skipped; any other label outside [0, C) is an error."""
    keep = t != ignore_index
    for x in (t, p):
        bad = ((x < 0) | (x >= C)) & keep
        if bool(bad.any()):
            raise ValueError(f"label {int(x[bad][0])} is outside [0, {C}) (num_classes={C}); pixels to skip need "
                             "ignore_index")
    base = torch.arange(N, device=p.device, dtype=torch.int64).unsqueeze(1) * C
    pk, tk = (p + base)[keep], (t + base)[keep]

    def count(v):
        return torch.bincount(v, minlength=N * C).reshape(N, C)

    return count(tk[pk == tk]), count(pk), count(tk)


def _to_classes(torch, x, is_labels, C):
    """(N, C, size) bool class membership of one side."""
    if is_labels:
        return torch.nn.functional.one_hot(x, C).movedim(-1, 1).bool()
    if x.dtype.is_floating_point:
        return torch.nn.functional.one_hot(x.argmax(1), C).movedim(-1, 1).bool()
    return x != 0


def _counts_torch(xp, preds, target, fmt, N, C, size, ignore_index):
    torch = xp.torch
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
        for x in (p, t):
            if x.dim() == 2:
                bad = ((x < 0) | (x >= C)) & keep
                if bool(bad.any()):
                    raise ValueError(f"label {int(x[bad][0])} is outside [0, {C}) (num_classes={C})")
        p = _to_classes(torch, torch.where(keep, p, 0) if p.dim() == 2 else p, p.dim() == 2, C)
        t = _to_classes(torch, torch.where(keep, t, 0) if t.dim() == 2 else t, t.dim() == 2, C)
    k = keep.unsqueeze(1)
    return (p & t & k).sum(-1), (p & k).sum(-1), (t & k).sum(-1)


def counts(xp, preds, target, fmt, N, C, size, ignore_index):
    """(I, P, T) int64 (N, C) on the GPU."""
    torch = xp.torch
    out = [xp.empty((N, C), xp.int64, preds) for _ in range(3)]
    if fmt == "one-hot" and preds.dtype.is_floating_point and target.dtype.is_floating_point:
        fmt, preds, target = "index", argmax(xp, preds), argmax(xp, target)
    k = xp.kernels(preds)
    if fmt in ("binary", "one-hot") and not (preds.dtype.is_floating_point ^ target.dtype.is_floating_point):
        p, t = u8(xp, preds.reshape(N * C, size)), u8(xp, target.reshape(N * C, size))
        k.mask_binary_counts(xp.view(p), xp.view(t), *(xp.view(o) for o in out), xp.stream(p))
        return tuple(out)
    if fmt == "index":
        p = preds.to(torch.int64).contiguous().reshape(N, size)
        t = target.to(torch.int64).contiguous().reshape(N, size)
        if C > MAX_LABEL_CLASSES:
            return label_counts_bincount(torch, p, t, N, C, ignore_index)
        bad = xp.empty((1,), xp.int64, p)
        k.mask_label_counts(xp.view(p), xp.view(t), C, ignore_index, *(xp.view(o) for o in out), xp.view(bad),
                            xp.stream(p))
        at = int(bad.item())
        if at >= 0:
            tv, pv = int(t.reshape(-1)[at]), int(p.reshape(-1)[at])
            value = tv if not 0 <= tv < C else pv
            raise ValueError(f"label {value} is outside [0, {C}) (num_classes={C}); pixels to skip need ignore_index")
        return tuple(out)
    return _counts_torch(xp, preds, target, fmt, N, C, size, ignore_index)


def _probs(torch, x, activation):
    if activation == ACTIVATIONS["softmax"]:
        return torch.softmax(x, dim=1)
    if activation == ACTIVATIONS["sigmoid"]:
        return torch.sigmoid(x)
    return x


def _dense_target(xp, input, target, ignore_index):
    torch = xp.torch
    N, C, size, is_labels = dice_spec(xp, input, target)
    if is_labels:
        keep = (target != ignore_index).reshape(N, 1, size)
        lab = torch.where(keep[:, 0], target.reshape(N, size), 0)
        bad = ((lab < 0) | (lab >= C)) & keep[:, 0]
        if bool(bad.any()):
            raise ValueError(f"target label {int(lab[bad][0])} is outside [0, {C}) and is not ignore_index")
        t = torch.nn.functional.one_hot(lab, C).movedim(-1, 1).to(torch.float64) * keep
        return t, keep.to(torch.float64)
    return target.reshape(N, C, size).to(torch.float64), None


def _stats_torch(xp, x, input, target, activation, ignore_index):
    torch = xp.torch
    N, C, size, _ = dice_spec(xp, input, target)
    p = _probs(torch, x, activation).reshape(N, C, size)
    t, keep = _dense_target(xp, input, target, ignore_index)
    pk = p if keep is None else p * keep  # ignored pixels count in neither sum
    return torch.stack([(pk * t).sum((0, 2)), pk.sum((0, 2)), t.sum((0, 2))], dim=1)


def _kernel_args(xp, input, target, ignore_index):
    N, C, size, is_labels = dice_spec(xp, input, target)
    ct = xp.compute_dtype("input", input.dtype)
    x = input.detach().to(ct).contiguous()
    if is_labels:
        lab = target.to(xp.int64).contiguous()
        check_labels(xp, lab, C, ignore_index)
        return N * size, C, x, lab, None
    return N * size, C, x, None, target.detach().to(ct).contiguous()


def dice_stats(xp, input, target, activation, ignore_index):
    N, C, size, _ = dice_spec(xp, input, target)
    if C > MAX_DICE_CLASSES:
        return _stats_torch(xp, input.detach().to(xp.float64), input, target, activation, ignore_index)
    pixels, C, x, lab, dense = _kernel_args(xp, input, target, ignore_index)
    k = xp.kernels(x)
    partial = xp.empty((k.dice_stats_blocks(pixels), C, 3), xp.float64, x)
    stats = xp.empty((C, 3), xp.float64, x)
    k.dice_stats(xp.view(x), None if lab is None else xp.view(lab), None if dense is None else xp.view(dense),
                 activation, ignore_index, xp.view(stats), xp.view(partial), xp.stream(x))
    return stats


def dice_stats_backward(xp, grad, input, target, activation, ignore_index):
    torch = xp.torch
    N, C, size, _ = dice_spec(xp, input, target)
    if C > MAX_DICE_CLASSES:
        with torch.enable_grad():
            x = input.detach().to(torch.float64).requires_grad_()
            stats = _stats_torch(xp, x, input, target, activation, ignore_index)
            (gx,) = torch.autograd.grad(stats, x, grad.to(torch.float64))
        return gx
    _, C, x, lab, dense = _kernel_args(xp, input, target, ignore_index)
    g = grad.detach().to(torch.float64).contiguous()
    gx = torch.empty_like(x)
    xp.kernels(x).dice_stats_backward(xp.view(x), None if lab is None else xp.view(lab),
                                      None if dense is None else xp.view(dense), activation, ignore_index,
                                      xp.view(g), xp.view(gx), xp.stream(x))
    return gx


def pairwise(xp, k, a, b, dice, out):
    """Fills out (N, M) from the 0/1 bytes a (N, H, W) and b (M, H, W); bits and info are the
    kernel's scratch (packed rows, bounding boxes)."""
    N, M, H, W = a.shape[0], b.shape[0], a.shape[1], a.shape[2]
    bits = xp.empty(((N + M) * H * ((W + 63) // 64),), xp.int64, a)
    info = xp.empty(((N + M) * 5,), xp.int64, a)
    k.pairwise_masks(xp.view(a), xp.view(b), dice, xp.view(out), xp.view(bits), xp.view(info), xp.stream(a))
