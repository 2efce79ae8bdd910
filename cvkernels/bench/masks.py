"""Benchmark cases of the mask metrics: cvkernels beside torchmetrics (when installed), the
best plain-torch expression, a float32 matmul and pycocotools' RLE iou."""

from __future__ import annotations

import numpy as np

from . import OURS, Case


def blobs(n, h, w, seed=0):
    """Object-like binary masks: filled ellipses."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    m = np.zeros((n, h, w), bool)
    for k in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(8, h / 4), rng.uniform(8, w / 4)
        m[k] = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return m


def cases(quick: bool = False):
    import warnings

    import torch

    import cvkernels

    try:
        import torchmetrics.functional.segmentation as tms
    except Exception:  # noqa: BLE001
        tms = None
    out = []

    def tm_quiet(fn):
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn()

        return run

    # binary masks
    n, h = (4, 256) if quick else (16, 512)
    p = torch.from_numpy(blobs(n, h, h, 1))
    t = torch.from_numpy(blobs(n, h, h, 2))
    impls = {OURS: lambda p=p, t=t: cvkernels.dice_score(p, t)}
    if tms:
        impls["torchmetrics dice_score"] = tm_quiet(lambda p=p, t=t: tms.dice_score(
            p[:, None].long(), t[:, None].long(), 1, average="macro"))
    impls["plain torch"] = lambda p=p, t=t: 2 * (p & t).sum((1, 2)) / (p.sum((1, 2)) + t.sum((1, 2)))
    out.append(Case(f"dice_score binary ({n},{h},{h}) bool", impls, in_bytes=2 * p.numel()))

    # label maps
    n, h, C = (2, 128, 21) if quick else (8, 256, 21)
    g = torch.Generator().manual_seed(3)
    lp = torch.randint(0, C, (n, h, h), generator=g)
    lt = torch.where(torch.rand(n, h, h, generator=g) < 0.7, lp, torch.randint(0, C, (n, h, h), generator=g))

    def torch_bincount(lp=lp, lt=lt, n=n, C=C):
        # the best plain-torch expression: one confusion matrix per sample by bincount
        idx = (lt * C + lp).reshape(n, -1) + torch.arange(n).view(n, 1) * C * C
        cm = torch.bincount(idx.reshape(-1), minlength=n * C * C).view(n, C, C)
        inter = cm.diagonal(dim1=1, dim2=2)
        dice = 2 * inter / (cm.sum(1) + cm.sum(2))
        return dice.nanmean(1)

    impls = {OURS: lambda lp=lp, lt=lt, C=C: cvkernels.dice_score(lp, lt, num_classes=C)}
    if tms:
        impls["torchmetrics dice_score"] = tm_quiet(lambda lp=lp, lt=lt, C=C: tms.dice_score(
            lp, lt, C, average="macro", input_format="index"))
    impls["plain torch (bincount)"] = torch_bincount
    out.append(Case(f"dice_score labels ({n},{h},{h}) int64, {C} classes", impls, in_bytes=2 * lp.numel() * 8))

    # soft Dice loss, forward + backward
    n, h, C = (2, 128, 21) if quick else (8, 256, 21)
    logits = torch.randn(n, C, h, h, generator=g)
    x = logits.clone().requires_grad_()

    def ours_fb(x=x, lt=lt, n=n, h=h):
        cvkernels.dice_loss(x, lt[:n, :h, :h]).backward()
        x.grad = None

    def torch_fb(x=x, lt=lt, n=n, h=h, C=C):
        prob = torch.softmax(x, 1)
        onehot = torch.nn.functional.one_hot(lt[:n, :h, :h], C).permute(0, 3, 1, 2).to(prob.dtype)
        inter = (prob * onehot).sum((0, 2, 3))
        den = prob.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
        (1 - 2 * inter / den.clamp(min=1e-7)).mean().backward()
        x.grad = None

    out.append(Case(f"dice_loss fwd+bwd ({n},{C},{h},{h}) softmax", {OURS: ours_fb, "plain torch": torch_fb}))

    # pairwise IoU of object-like masks
    n, h = (30, 256) if quick else (100, 512)
    a, b = blobs(n, h, h, 4), blobs(n, h, h, 5)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)

    def matmul(ta=ta, tb=tb, n=n):
        fa, fb = ta.reshape(n, -1).float(), tb.reshape(n, -1).float()
        inter = fa @ fb.T
        return inter / (fa.sum(1, keepdim=True) + fb.sum(1)[None] - inter)

    impls = {OURS: lambda ta=ta, tb=tb: cvkernels.pairwise_mask_iou(ta, tb), "float32 matmul": matmul}
    try:
        from pycocotools import mask as pm

        ra = pm.encode(np.asfortranarray(a.transpose(1, 2, 0).astype(np.uint8)))
        rb = pm.encode(np.asfortranarray(b.transpose(1, 2, 0).astype(np.uint8)))
        crowd = [0] * n
        impls["pycocotools.mask.iou (RLE, encoding not timed)"] = lambda ra=ra, rb=rb, crowd=crowd: pm.iou(ra, rb, crowd)
    except ImportError:
        pass
    out.append(Case(f"pairwise_mask_iou {n}x{n} masks {h}x{h}", impls))
    return out
