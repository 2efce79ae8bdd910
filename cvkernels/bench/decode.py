"""Benchmark cases of decoding: heatmap_peaks beside CenterNet's torch expression (max_pool2d
suppression, two torch.topk, gathers) on CenterNet's output size (128 x 128, 80 classes, K =
100), sigmoid heatmaps; RetinaNet's post-processing of 5 levels at 800 x 800 (decode_topk per
level + batched_nms) beside torchvision's RetinaNet.postprocess_detections; YOLOv5s' three
levels at 640 x 640 (decode_yolo per level) beside the Detect head's decoding and
non_max_suppression's candidate selection in torch."""

from __future__ import annotations

from . import OURS, Case


def _centernet(heat, wh, reg, K):
    import torch
    import torch.nn.functional as F

    B, C, H, W = heat.shape
    hmax = F.max_pool2d(heat, (3, 3), stride=1, padding=1)
    heat = heat * (hmax == heat).float()
    topk_scores, topk_inds = torch.topk(heat.view(B, C, -1), K)
    topk_inds = topk_inds % (H * W)
    scores, ind = torch.topk(topk_scores.view(B, -1), K)
    inds = topk_inds.view(B, -1).gather(1, ind)
    ys, xs = (inds // W).float(), (inds % W).float()
    idx = inds.unsqueeze(2).expand(B, K, 2)
    r = reg.view(B, 2, -1).permute(0, 2, 1).gather(1, idx)
    w = wh.view(B, 2, -1).permute(0, 2, 1).gather(1, idx)
    xs, ys = xs + r[..., 0], ys + r[..., 1]
    return torch.stack([xs - w[..., 0] / 2, ys - w[..., 1] / 2, xs + w[..., 0] / 2, ys + w[..., 1] / 2], -1), scores


def cases(quick: bool = False):
    import torch

    import cvkernels

    B = 2 if quick else 8
    g = torch.Generator().manual_seed(0)
    heat = (torch.randn(B, 80, 128, 128, generator=g) * 2 - 6).sigmoid()  # mostly low, some peaks
    wh = torch.rand(B, 2, 128, 128, generator=g) * 30
    reg = torch.rand(B, 2, 128, 128, generator=g)
    impls = {OURS: lambda: cvkernels.heatmap_peaks(heat, wh, reg, K=100),
             "torch (CenterNet's decode)": lambda: _centernet(heat, wh, reg, 100)}
    return [Case(f"heatmap_peaks {B} x 80 x 128 x 128, K=100", impls, in_bytes=heat.numel() * 4,
                 note="float32 sigmoid heatmaps")] + retinanet_cases(quick) + yolo_cases(quick)


def _retinanet_inputs(quick, mean):
    import torch

    sizes = [100, 50, 25, 13, 7] if not quick else [50, 25, 13]
    g = torch.Generator().manual_seed(2)
    A, C = 9, 91
    logits = [torch.randn(s * s * A, C, generator=g) + mean for s in sizes]
    regression = [torch.randn(s * s * A, 4, generator=g) * 0.5 for s in sizes]
    anchors = []
    for i, s in enumerate(sizes):
        stride = 800 // s
        xy = (torch.arange(s * s * A) // A) % s
        cx = ((torch.arange(s * s * A) // A) // s).float() * stride
        cy = xy.float() * stride
        half = 16.0 * 2 ** i
        anchors.append(torch.stack([cx - half, cy - half, cx + half, cy + half], 1))
    return logits, regression, anchors


def retinanet_cases(quick: bool = False):
    # logits ~ N(mean, 1): mean -6 leaves 0.1% of the scores above 0.05 (a trained detector's
    # background), mean -4 leaves 16%
    return [c for mean in (-6.0, -4.0) for c in _retinanet_case(quick, mean)]


def _retinanet_case(quick, mean):
    import torch

    import cvkernels

    logits, regression, anchors = _retinanet_inputs(quick, mean)
    size = (800, 800)

    def ours():
        boxes, scores, labels = [], [], []
        for lg, rg, an in zip(logits, regression, anchors):
            b, s, lb, _ = cvkernels.decode_topk(lg, rg, an, 0.05, 1000, image_size=size)
            boxes.append(b)
            scores.append(s)
            labels.append(lb)
        boxes, scores, labels = torch.cat(boxes), torch.cat(scores), torch.cat(labels)
        keep = cvkernels.batched_nms(boxes, scores, labels, 0.5)[:300]
        return boxes[keep], scores[keep], labels[keep]

    impls = {OURS: ours}
    try:
        from torchvision.models.detection.retinanet import RetinaNet

        class _Post:  # the attributes postprocess_detections reads
            from torchvision.models.detection import _utils as det_utils

            box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
            score_thresh, nms_thresh, detections_per_img, topk_candidates = 0.05, 0.5, 300, 1000

        post = _Post()
        # per level (images, anchors, ...) tensors and per image per level anchors, as forward() splits them
        head = {"cls_logits": [x[None] for x in logits], "bbox_regression": [x[None] for x in regression]}
        impls["torchvision RetinaNet.postprocess_detections"] = lambda: RetinaNet.postprocess_detections(
            post, head, [anchors], [size])
    except ImportError:
        pass
    n = sum(len(a) for a in anchors)
    above = float(sum((torch.sigmoid(x) > 0.05).sum() for x in logits)) / sum(x.numel() for x in logits)
    return [Case(f"RetinaNet post-processing, {len(logits)} levels at 800x800 ({n} anchors x 91 classes, "
                 f"{100 * above:.1f}% of scores above 0.05)", impls,
                 note="decode_topk per level + batched_nms + top 300")]


def _yolov5_torch(levels, anchors, strides, conf):
    """YOLOv5's Detect decoding of each level and non_max_suppression's candidates (obj > conf,
    cls *= obj, best class > conf), the kept rows sorted by score: its torch expressions."""
    import torch

    out = []
    for pred, anc, stride in zip(levels, anchors, strides):
        A, H, W, no = pred.shape
        yv, xv = torch.meshgrid(torch.arange(H, dtype=pred.dtype), torch.arange(W, dtype=pred.dtype), indexing="ij")
        grid = torch.stack((xv, yv), 2).expand(A, H, W, 2) - 0.5
        y = pred.sigmoid()
        xy = (y[..., :2] * 2 + grid) * stride
        wh = (y[..., 2:4] * 2) ** 2 * anc.view(A, 1, 1, 2)
        out.append(torch.cat((xy, wh, y[..., 4:]), -1).view(-1, no))
    x = torch.cat(out)
    x = x[x[:, 4] > conf]
    x[:, 5:] *= x[:, 4:5]
    box = torch.cat((x[:, :2] - x[:, 2:4] / 2, x[:, :2] + x[:, 2:4] / 2), 1)
    score, label = x[:, 5:].max(1)
    keep = score > conf
    box, score, label = box[keep], score[keep], label[keep]
    order = score.argsort(descending=True)[:30000]
    return box[order], score[order], label[order]


def yolo_cases(quick: bool = False):
    import torch

    import cvkernels

    size = 320 if quick else 640
    strides = (8.0, 16.0, 32.0)
    anchors = [torch.tensor(a) for a in ([[10.0, 13], [16, 30], [33, 23]], [[30.0, 61], [62, 45], [59, 119]],
                                         [[116.0, 90], [156, 198], [373, 326]])]
    g = torch.Generator().manual_seed(0)
    levels = []
    for s in strides:
        p = torch.randn(3, int(size // s), int(size // s), 85, generator=g)
        p[..., 4] = p[..., 4] * 2 - 6  # objectness of a trained detector: mostly background
        levels.append(p)
    out = []
    for conf in (0.25, 0.001):
        def ours(conf=conf):
            parts = [cvkernels.decode_yolo(p, a, s, conf, 30000) for p, a, s in zip(levels, anchors, strides)]
            boxes, scores, labels, _ = (torch.cat(t) for t in zip(*parts))
            order = scores.argsort(descending=True)[:30000]  # one ranking over the levels
            return boxes[order], scores[order], labels[order]

        impls = {OURS: ours, "torch (YOLOv5 Detect + NMS candidates)": lambda conf=conf: _yolov5_torch(
            levels, anchors, strides, conf)}
        n = sum(p.shape[0] * p.shape[1] * p.shape[2] for p in levels)
        out.append(Case(f"YOLOv5 decode + candidates, 3 levels at {size}x{size} ({n} cells x 80 classes), "
                        f"conf {conf:g}", impls, in_bytes=sum(p.numel() for p in levels) * 4))
    return out
