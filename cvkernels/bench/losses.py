"""Benchmark cases of the training losses: sigmoid_focal_loss forward + backward beside
torchvision.ops.sigmoid_focal_loss on RetinaNet-sized inputs (8 images x 120,000 anchors x 80
classes), reductions "sum" and "none"; softmax_focal_loss forward + backward on Cityscapes-like
logits (4 x 19 x 256 x 512) beside the torch expression of the same loss and, at gamma 0,
F.cross_entropy."""

from __future__ import annotations

from . import OURS, Case


def cases(quick: bool = False):
    import torch

    import cvkernels

    shape = (2, 30000, 80) if quick else (8, 120000, 80)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g)
    t = (torch.rand(shape, generator=g) < 0.01).float()
    out = []
    for reduction in ("sum", "none"):
        def step(fn, reduction=reduction):
            def run():
                xa = x.detach().requires_grad_()
                loss = fn(xa, t, 0.25, 2.0, reduction)
                (loss if reduction == "sum" else loss.sum()).backward()
                return xa.grad
            return run

        impls = {OURS: step(cvkernels.sigmoid_focal_loss)}
        try:
            import torchvision

            impls["torchvision"] = step(torchvision.ops.sigmoid_focal_loss)
        except ImportError:
            pass
        out.append(Case(f"sigmoid_focal_loss fwd+bwd {'x'.join(map(str, shape))} reduction={reduction}", impls,
                        in_bytes=2 * x.numel() * 4, note="float32, alpha 0.25, gamma 2"))
    out += _softmax_cases(quick)
    return out


def _torch_softmax_focal(x, t, gamma, w):
    import torch

    logp = torch.log_softmax(x, 1)
    logp_t = logp.gather(1, t.clamp(min=0).unsqueeze(1)).squeeze(1)
    keep = t != -100
    wt = w[t.clamp(min=0)] * keep
    return (-wt * (1 - logp_t.exp()) ** gamma * logp_t).sum() / wt.sum()


def _softmax_cases(quick):
    import torch

    import cvkernels

    shape = (2, 19, 128, 256) if quick else (4, 19, 256, 512)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(shape, generator=g)
    t = torch.randint(0, 19, shape[:1] + shape[2:], generator=g)
    t[:, :8] = -100
    w = torch.rand(19, generator=g) + 0.5
    out = []
    for gamma in (2.0, 0.0):
        def step(fn, gamma=gamma):
            def run():
                xa = x.detach().requires_grad_()
                fn(xa, gamma).backward()
                return xa.grad
            return run

        impls = {OURS: step(lambda xa, gm: cvkernels.softmax_focal_loss(xa, t, gm, w))}
        if gamma == 0.0:
            impls["torch F.cross_entropy"] = step(lambda xa, gm: torch.nn.functional.cross_entropy(xa, t, w))
        else:
            impls["torch expression"] = step(lambda xa, gm: _torch_softmax_focal(xa, t, gm, w))
        out.append(Case(f"softmax_focal_loss fwd+bwd {'x'.join(map(str, shape))} gamma={gamma:g}", impls,
                        in_bytes=x.numel() * 4, note="float32, class weights, ignore_index on some rows"))
    return out
