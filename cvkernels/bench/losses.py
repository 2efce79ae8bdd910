"""Benchmark cases of the training losses: sigmoid_focal_loss forward + backward beside
torchvision.ops.sigmoid_focal_loss on RetinaNet-sized inputs (8 images x 120,000 anchors x 80
classes), reductions "sum" and "none"."""

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
    return out
