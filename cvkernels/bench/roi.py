"""Benchmark cases of RoIAlign / RoIPool: cvkernels beside torchvision.ops (when installed), on
a Faster R-CNN-like head: features (2, 256, 200, 272), 512 RoIs, sampling_ratio 2, aligned."""

from __future__ import annotations

from . import OURS, Case


def head_inputs(torch, quick=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, c, h, w, k = (2, 64, 100, 136, 128) if quick else (2, 256, 200, 272, 512)
    x = torch.randn(n, c, h, w, generator=g)
    img = torch.tensor([w * 4.0, h * 4.0])  # spatial_scale 1/4, as FPN level P2
    xy = torch.rand(k, 2, generator=g) * img
    wh = torch.rand(k, 2, generator=g) * 300 + 16
    boxes = torch.cat([xy, (xy + wh).minimum(img)], dim=1)
    rois = torch.cat([torch.randint(0, n, (k, 1), generator=g).float(), boxes], dim=1)
    return x, rois


def cases(quick: bool = False):
    import torch

    import cvkernels

    try:
        import torchvision.ops as tv
    except Exception:  # noqa: BLE001
        tv = None
    x, rois = head_inputs(torch, quick)
    shape = "x".join(str(d) for d in x.shape)
    xg = x.clone().requires_grad_()
    out = []

    def fwd_bwd(fn, *args):
        def run():
            y = fn(xg, rois, *args)
            y.backward(torch.ones_like(y))
            xg.grad = None

        return run

    for size in (7, 14):
        impls = {OURS: lambda size=size: cvkernels.roi_align(x, rois, size, 0.25, 2, True)}
        if tv:
            impls["torchvision.ops.roi_align"] = lambda size=size: tv.roi_align(x, rois, size, 0.25, 2, True)
        out.append(Case(f"roi_align fwd {size}x{size}, {shape}, {len(rois)} RoIs", impls))
    impls = {OURS: fwd_bwd(cvkernels.roi_align, 7, 0.25, 2, True)}
    if tv:
        impls["torchvision.ops.roi_align"] = fwd_bwd(tv.roi_align, 7, 0.25, 2, True)
    out.append(Case(f"roi_align fwd+bwd 7x7, {shape}", impls))
    impls = {OURS: lambda: cvkernels.roi_pool(x, rois, 7, 0.25)}
    if tv:
        impls["torchvision.ops.roi_pool"] = lambda: tv.roi_pool(x, rois, 7, 0.25)
    out.append(Case(f"roi_pool fwd 7x7, {shape}", impls))
    impls = {OURS: fwd_bwd(cvkernels.roi_pool, 7, 0.25)}
    if tv:
        impls["torchvision.ops.roi_pool"] = fwd_bwd(tv.roi_pool, 7, 0.25)
    out.append(Case(f"roi_pool fwd+bwd 7x7, {shape}", impls))
    return out + multiscale_cases(torch, cvkernels, tv, quick)


def multiscale_inputs(torch, quick=False, seed=0):
    """Faster R-CNN's box head input: 4 FPN levels (strides 4-32) of an 800x1088 batch of 2,
    256 channels, 1000 proposals (500 per image) of FPN-like sizes."""
    g = torch.Generator().manual_seed(seed)
    c, (h, w), k = (64, (400, 544), 250) if quick else (256, (800, 1088), 500)
    feats = {str(i): torch.randn(2, c, h // 2 ** (i + 2), w // 2 ** (i + 2), generator=g) for i in range(4)}
    img = torch.tensor([float(w), float(h)])
    boxes = []
    for _ in range(2):
        xy = torch.rand(k, 2, generator=g) * img
        wh = torch.exp(torch.rand(k, 2, generator=g) * 5.5) * 4  # 4 .. 980 pixels: every level
        boxes.append(torch.cat([xy, (xy + wh).minimum(img)], dim=1))
    return feats, boxes, [(h, w), (h, w)]


def multiscale_cases(torch, cvkernels, tv, quick=False):
    feats, boxes, shapes = multiscale_inputs(torch, quick)
    names = list(feats)
    ours = cvkernels.MultiScaleRoIAlign(names, 7, 2)
    theirs = tv.MultiScaleRoIAlign(names, 7, 2) if tv else None
    c = feats["0"].shape[1]
    label = f"MultiScaleRoIAlign 4 levels, {c} ch, {sum(len(b) for b in boxes)} RoIs, 7x7"
    impls = {OURS: lambda: ours(feats, boxes, shapes)}
    if theirs is not None:
        impls["torchvision MultiScaleRoIAlign"] = lambda: theirs(feats, boxes, shapes)
    out = [Case(f"{label} fwd", impls)]
    grads = {k: v.clone().requires_grad_() for k, v in feats.items()}

    def fwd_bwd(module):
        def run():
            y = module(grads, boxes, shapes)
            y.backward(torch.ones_like(y))
            for v in grads.values():
                v.grad = None

        return run

    impls = {OURS: fwd_bwd(ours)}
    if theirs is not None:
        impls["torchvision MultiScaleRoIAlign"] = fwd_bwd(theirs)
    out.append(Case(f"{label} fwd+bwd", impls))
    return out
