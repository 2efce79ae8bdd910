"""Benchmark cases of the box ops: cvkernels beside torchvision.ops (when installed) and the
plain-torch broadcasting expression."""

from __future__ import annotations

from . import OURS, Case


def random_boxes(torch, n, batch=None, seed=0, scale=1000.0):
    g = torch.Generator().manual_seed(seed)
    shape = (n, 2) if batch is None else (batch, n, 2)
    xy = torch.rand(shape, generator=g) * scale
    wh = torch.rand(shape, generator=g) * scale / 10 + 1
    return torch.cat([xy, xy + wh], dim=-1)


def torch_box_iou(a, b):
    """IoU as a plain broadcasting torch expression (works batched)."""
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    lt = torch_max(a[..., :, None, :2], b[..., None, :, :2])
    rb = torch_min(a[..., :, None, 2:], b[..., None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[..., :, None] + area_b[..., None, :] - inter)


def torch_generalized_box_iou(a, b):
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    lt = torch_max(a[..., :, None, :2], b[..., None, :, :2])
    rb = torch_min(a[..., :, None, 2:], b[..., None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[..., :, None] + area_b[..., None, :] - inter
    lti = torch_min(a[..., :, None, :2], b[..., None, :, :2])
    rbi = torch_max(a[..., :, None, 2:], b[..., None, :, 2:])
    whi = (rbi - lti).clamp(min=0)
    area_c = whi[..., 0] * whi[..., 1]
    return inter / union - (area_c - union) / area_c


def torch_max(x, y):
    import torch

    return torch.maximum(x, y)


def torch_min(x, y):
    import torch

    return torch.minimum(x, y)


def cases(quick: bool = False):
    import torch

    import cvkernels

    try:
        import torchvision.ops as tv
    except Exception:  # noqa: BLE001
        tv = None
    out = []

    n = 1024 if quick else 4096
    a, b = random_boxes(torch, n, seed=1), random_boxes(torch, n, seed=2)
    impls = {OURS: lambda a=a, b=b: cvkernels.box_iou(a, b)}
    if tv:
        impls["torchvision.ops.box_iou"] = lambda a=a, b=b: tv.box_iou(a, b)
    impls["torch broadcasting"] = lambda a=a, b=b: torch_box_iou(a, b)
    out.append(Case(f"box_iou {n}x{n} f32", impls, out_bytes=n * n * 4))

    n = 1000
    a, b = random_boxes(torch, n, seed=3), random_boxes(torch, n, seed=4)
    for name, expr in (("generalized_box_iou", torch_generalized_box_iou), ("distance_box_iou", None),
                       ("complete_box_iou", None)):
        impls = {OURS: (lambda f=getattr(cvkernels, name), a=a, b=b: f(a, b))}
        if tv:
            impls[f"torchvision.ops.{name}"] = lambda f=getattr(tv, name), a=a, b=b: f(a, b)
        if expr:
            impls["torch broadcasting"] = lambda f=expr, a=a, b=b: f(a, b)
        out.append(Case(f"{name} {n}x{n} f32", impls, out_bytes=n * n * 4))

    B, N, M = 16, 1000, 100
    a, b = random_boxes(torch, N, batch=B, seed=5), random_boxes(torch, M, batch=B, seed=6)
    impls = {OURS: lambda a=a, b=b: cvkernels.box_iou(a, b)}
    if tv:
        impls["loop of torchvision box_iou"] = lambda a=a, b=b: torch.stack([tv.box_iou(a[i], b[i]) for i in range(B)])
    impls["torch broadcasting (batched)"] = lambda a=a, b=b: torch_box_iou(a, b)
    out.append(Case(f"batched box_iou {B}x({N}x{M}) f32", impls, out_bytes=B * N * M * 4))

    a, b = random_boxes(torch, 10, seed=7), random_boxes(torch, 10, seed=8)
    impls = {OURS: lambda a=a, b=b: torch.ops.cvkernels.box_iou(a, b),
             "cvkernels.box_iou (public fn)": lambda a=a, b=b: cvkernels.box_iou(a, b)}
    if tv:
        impls["torchvision.ops.box_iou"] = lambda a=a, b=b: tv.box_iou(a, b)
    impls["torch broadcasting"] = lambda a=a, b=b: torch_box_iou(a, b)
    out.append(Case("box_iou 10x10 via torch.ops (call overhead)", impls))

    n = 20000 if quick else 100000
    p, t = random_boxes(torch, n, seed=9), random_boxes(torch, n, seed=10)
    for name in ("generalized_box_iou_loss", "complete_box_iou_loss"):
        def ours_fb(f=getattr(cvkernels, name)):
            x = p.clone().requires_grad_()
            f(x, t, reduction="mean").backward()

        impls = {OURS: ours_fb}
        if tv:
            def tv_fb(f=getattr(tv, name)):
                x = p.clone().requires_grad_()
                f(x, t, reduction="mean").backward()

            impls[f"torchvision.ops.{name}"] = tv_fb
        out.append(Case(f"{name} fwd+bwd {n} pairs f32", impls))
    return out + rotated_cases(quick)


def rotated_cases(quick: bool = False):
    """box_iou_rotated beside shapely's vectorized polygon intersection."""
    import numpy as np

    import cvkernels

    n = 300 if quick else 1000
    rng = np.random.default_rng(0)

    def boxes():
        return np.column_stack([rng.uniform(0, 200, n), rng.uniform(0, 200, n), rng.uniform(2, 40, n),
                                rng.uniform(2, 40, n), rng.uniform(-180, 180, n)])

    a, b = boxes(), boxes()
    impls = {OURS: lambda: cvkernels.box_iou_rotated(a, b)}
    try:
        import shapely

        def polys(x):
            c, s = np.cos(np.radians(x[:, 4])), np.sin(np.radians(x[:, 4]))
            d = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) / 2
            px = x[:, None, 0] + c[:, None] * d[:, 0] * x[:, None, 2] - s[:, None] * d[:, 1] * x[:, None, 3]
            py = x[:, None, 1] + s[:, None] * d[:, 0] * x[:, None, 2] + c[:, None] * d[:, 1] * x[:, None, 3]
            return shapely.polygons(np.stack([px, py], -1))

        pa, pb = polys(a), polys(b)

        def with_shapely():
            inter = shapely.area(shapely.intersection(pa[:, None], pb[None, :]))
            return inter / (shapely.area(pa)[:, None] + shapely.area(pb)[None, :] - inter)

        impls["shapely (vectorized)"] = with_shapely
    except ImportError:
        pass
    out = [Case(f"box_iou_rotated {n}x{n}", impls, note="float64 boxes (cx, cy, w, h, degrees)")]
    m = 2000 if quick else 10000
    nb = np.column_stack([rng.uniform(0, 1000, m), rng.uniform(0, 1000, m), rng.uniform(5, 60, m),
                          rng.uniform(5, 60, m), rng.uniform(-90, 90, m)]).astype(np.float32)
    ns = rng.uniform(size=m).astype(np.float32)
    out.append(Case(f"nms_rotated {m} boxes, IoU 0.5", {OURS: lambda: cvkernels.nms_rotated(nb, ns, 0.5)},
                    note="float32, boxes of 5-60 in a 1000 x 1000 field (no peer installs here)"))
    return out
