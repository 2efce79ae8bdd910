"""Benchmark cases of torchvision's detection models, stock and with cvkernels.patch_torchvision():
the whole forward of each model, and for the two-stage models the part that runs on the ops
cvkernels replaces (region proposals: NMS; RoI heads: MultiScaleRoIAlign, box decoding, batched
NMS; on features computed once). Random weights, eval mode, two 320x320 images, no score
threshold (so post-processing sees every candidate, as a trained model's early epochs do)."""

from __future__ import annotations

from . import Case

MODELS = {
    "fasterrcnn_resnet50_fpn": dict(box_score_thresh=0.0),
    "maskrcnn_resnet50_fpn": dict(box_score_thresh=0.0),
    "keypointrcnn_resnet50_fpn": dict(box_score_thresh=0.0),
    "retinanet_resnet50_fpn": dict(score_thresh=0.0),
    "fcos_resnet50_fpn": dict(score_thresh=0.0),
    "ssd300_vgg16": dict(score_thresh=0.0),
}
STOCK, PATCHED = "torchvision (stock)", "torchvision + cvkernels.patch_torchvision()"


def cases(quick: bool = False):
    import torch

    try:
        from torchvision.models import detection
    except Exception:  # noqa: BLE001
        return []
    import cvkernels

    g = torch.Generator().manual_seed(0)
    images = [torch.rand(3, 320, 320, generator=g) for _ in range(2)]
    names = ["fasterrcnn_resnet50_fpn"] if quick else list(MODELS)
    out = []
    for name in names:
        kwargs = dict(MODELS[name])
        if name != "ssd300_vgg16":
            kwargs.update(min_size=320, max_size=320)
        torch.manual_seed(0)
        model = getattr(detection, name)(weights=None, weights_backbone=None, **kwargs).eval()

        def forward(model=model):
            with torch.no_grad():
                return model(images)

        def patched(fn):
            def run():
                with cvkernels.patch_torchvision():
                    return fn()

            return run

        out.append(Case(f"pipeline {name} forward, 2x320x320", {STOCK: forward, PATCHED: patched(forward)},
                        note="cvkernels = torchvision patched; ratio = stock time / patched time"))
        if hasattr(model, "rpn") and hasattr(model, "roi_heads"):
            out += _two_stage_cases(torch, name, model, images, patched)
    return [_ours_is(PATCHED, c) for c in out]


def _two_stage_cases(torch, name, model, images, patched):
    """The parts of a two-stage model that run on replaced ops, each on inputs computed once:
    the RoI heads' pooling (MultiScaleRoIAlign over 4 FPN levels), their post-processing
    (box decoding, clipping, score filter, batched NMS per class) and the RPN with the heads."""
    heads = model.roi_heads
    with torch.no_grad():
        batch, _ = model.transform(images)
        features = model.backbone(batch.tensors)
        proposals, _ = model.rpn(batch, features)
        sizes = batch.image_sizes
        pooled = heads.box_roi_pool(features, proposals, sizes)
        class_logits, box_regression = heads.box_predictor(heads.box_head(pooled))

    def pool():
        with torch.no_grad():
            return heads.box_roi_pool(features, proposals, sizes)

    def post():
        with torch.no_grad():
            return heads.postprocess_detections(class_logits, box_regression, proposals, sizes)

    def rpn_and_heads():
        with torch.no_grad():
            props, _ = model.rpn(batch, features)
            return heads(features, props, sizes)

    k = sum(len(p) for p in proposals)
    return [
        Case(f"pipeline {name} RoI pooling ({k} proposals)", {STOCK: pool, PATCHED: patched(pool)}),
        Case(f"pipeline {name} post-processing", {STOCK: post, PATCHED: patched(post)},
             note=f"{class_logits.shape[1]} classes x {k} proposals: decode, clip, filter, batched NMS"),
        Case(f"pipeline {name} rpn+roi_heads", {STOCK: rpn_and_heads, PATCHED: patched(rpn_and_heads)},
             note="the MLP box head (not replaced) included"),
    ]


def _ours_is(label, case):
    """The runner's ratios are against OURS: name the patched run so."""
    from . import OURS

    impls = {OURS if k == label else k: v for k, v in case.impls.items()}
    return Case(case.name, dict(sorted(impls.items(), key=lambda kv: kv[0] != OURS)), note=case.note)
