"""Benchmark cases of the NMS ops: cvkernels beside torchvision.ops (when installed) and the
plain-Python reference (soft-NMS, which torchvision lacks)."""

from __future__ import annotations

from . import OURS, Case


def clustered_boxes(torch, n, seed=0, objects_per_box=0.05, scale=1000.0):
    """A detector's raw output: n jittered copies of n/20 objects, uniform random scores."""
    g = torch.Generator().manual_seed(seed)
    k = max(1, int(n * objects_per_box))
    centre = torch.rand(k, 2, generator=g) * scale
    size = torch.rand(k, 2, generator=g) * scale / 10 + scale / 50
    o = torch.randint(0, k, (n,), generator=g)
    c = centre[o] + torch.randn(n, 2, generator=g) * size[o] * 0.1
    s = size[o] * (1 + torch.randn(n, 2, generator=g) * 0.1)
    boxes = torch.cat([c - s / 2, c + s / 2], dim=1).contiguous()
    return boxes, torch.rand(n, generator=g)


def cases(quick: bool = False):
    import torch

    import cvkernels
    from cvkernels import reference

    try:
        import torchvision.ops as tv
    except Exception:  # noqa: BLE001
        tv = None
    out = []
    sizes = (1000, 10000) if quick else (1000, 10000, 50000)
    for n in sizes:
        b, s = clustered_boxes(torch, n, seed=n)
        impls = {OURS: lambda b=b, s=s: cvkernels.nms(b, s, 0.5)}
        if tv:
            impls["torchvision.ops.nms"] = lambda b=b, s=s: tv.nms(b, s, 0.5)
        out.append(Case(f"nms {n} clustered boxes, IoU 0.5", impls))

    n = 10000 if quick else 50000
    b, s = clustered_boxes(torch, n, seed=7)
    idx = torch.randint(0, 80, (n,), generator=torch.Generator().manual_seed(8))
    impls = {OURS: lambda b=b, s=s, idx=idx: cvkernels.batched_nms(b, s, idx, 0.5)}
    if tv:
        impls["torchvision.ops.batched_nms"] = lambda b=b, s=s, idx=idx: tv.batched_nms(b, s, idx, 0.5)
    out.append(Case(f"batched_nms {n} boxes, 80 classes", impls))

    n = 1000 if quick else 5000
    b, s = clustered_boxes(torch, n, seed=9)
    bn, sn = b.numpy(), s.numpy()
    impls = {
        OURS: lambda b=b, s=s: cvkernels.soft_nms(b, s),
        "plain-Python reference": lambda bn=bn, sn=sn: reference.soft_nms(bn, sn),
    }
    out.append(Case(f"soft_nms (gaussian) {n} clustered boxes", impls))

    B, N, C = (2, 2000, 80) if quick else (8, 8400, 80)
    g = torch.Generator().manual_seed(10)
    boxes = torch.stack([clustered_boxes(torch, N, seed=100 + i)[0] for i in range(B)])
    scores = torch.rand(B, N, C, generator=g) ** 6  # mostly low, as a detector's class scores
    impls = {OURS: lambda: cvkernels.multiclass_nms(boxes, scores, 0.25, 0.45, 100, 300)}
    if tv:
        def tv_loop():
            for i in range(B):
                m = scores[i] > 0.25
                n_idx, c_idx = m.nonzero(as_tuple=True)
                keep = tv.batched_nms(boxes[i][n_idx], scores[i][m], c_idx, 0.45)[:300]
                boxes[i][n_idx[keep]]

        impls["loop of torchvision batched_nms"] = tv_loop
    out.append(Case(f"multiclass_nms {B}x{N} anchors x {C} classes", impls,
                    note="torchvision loop: no per-class cap, no padding (less work than ours)"))
    return out
