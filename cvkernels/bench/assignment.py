"""Benchmark cases of bipartite matching: linear_sum_assignment on a batch of cost matrices
beside a Python loop of scipy.optimize.linear_sum_assignment, and hungarian_match beside DETR's
HungarianMatcher (its torch cost on the whole (B*Q, sum n) matrix, then scipy per image)."""

from __future__ import annotations

import numpy as np

from . import OURS, Case


def _detr_matcher(logits, boxes, targets, lsa, w_class=1.0, w_bbox=5.0, w_giou=2.0):
    """DETR's HungarianMatcher.forward, as its code computes it (torchvision's GIoU)."""
    import torch
    from torchvision.ops import box_convert, generalized_box_iou

    with torch.no_grad():
        bs, nq = logits.shape[:2]
        out_prob = logits.flatten(0, 1).softmax(-1)
        out_bbox = boxes.flatten(0, 1)
        tgt_ids = torch.cat([v["labels"] for v in targets])
        tgt_bbox = torch.cat([v["boxes"] for v in targets])
        c = (w_bbox * torch.cdist(out_bbox, tgt_bbox, p=1) + w_class * -out_prob[:, tgt_ids]
             + w_giou * -generalized_box_iou(box_convert(out_bbox, "cxcywh", "xyxy"),
                                             box_convert(tgt_bbox, "cxcywh", "xyxy")))
        c = c.view(bs, nq, -1).cpu()
        sizes = [len(v["boxes"]) for v in targets]
        return [lsa(m[i]) for i, m in enumerate(c.split(sizes, -1))]


def cases(quick: bool = False):
    import torch

    import cvkernels

    B, Q, G, C = (16 if quick else 64), 100, 20, 92
    rng = np.random.default_rng(0)
    costs = [rng.uniform(size=(Q, G)) for _ in range(B)]
    impls = {OURS: lambda: cvkernels.linear_sum_assignment(costs)}
    try:
        from scipy.optimize import linear_sum_assignment as scipy_lsa

        impls["scipy loop"] = lambda: [scipy_lsa(c) for c in costs]
    except ImportError:
        scipy_lsa = None
    out = [Case(f"linear_sum_assignment {B} x ({Q} x {G})", impls, note="float64 costs")]

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(B, Q, C, generator=g)
    boxes = torch.cat([torch.rand(B, Q, 2, generator=g) * 0.8 + 0.1, torch.rand(B, Q, 2, generator=g) * 0.3 + 0.02], -1)
    targets = [{"labels": torch.randint(0, C - 1, (G,), generator=g),
                "boxes": torch.cat([torch.rand(G, 2, generator=g) * 0.8 + 0.1, torch.rand(G, 2, generator=g) * 0.3 + 0.02],
                                   -1)} for _ in range(B)]
    impls = {OURS: lambda: cvkernels.hungarian_match(logits, boxes, targets, 1.0, 5.0, 2.0)}
    if scipy_lsa is not None:
        try:
            import torchvision  # noqa: F401

            impls["DETR matcher (torch + scipy)"] = lambda: _detr_matcher(logits, boxes, targets, scipy_lsa)
        except ImportError:
            pass
    out.append(Case(f"hungarian_match {B} images x {Q} queries x {G} objects, {C} classes", impls,
                    note="DETR's weights 1 / 5 / 2"))
    return out
