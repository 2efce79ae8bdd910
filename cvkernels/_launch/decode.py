"""Launchers of the dense decoding kernels (csrc/decode/): argument rules, output spec, one call
into _C."""

from __future__ import annotations


def peaks_spec(xp, heat, wh, reg, K: int, kernel: int):
    """(B, K) and the compute dtype, after checking the arguments."""
    xp.same_device(heat=heat, wh=wh, reg=reg)
    if len(heat.shape) != 4:
        raise ValueError(f"heat must be (B, C, H, W), got shape {tuple(heat.shape)}")
    B, C, H, W = (int(v) for v in heat.shape)
    for name, m in (("wh", wh), ("reg", reg)):
        if m is not None and tuple(m.shape) != (B, 2, H, W):
            raise ValueError(f"{name} must be (B, 2, H, W) = {(B, 2, H, W)}, got {tuple(m.shape)}")
    if not xp.is_float(heat.dtype):
        raise TypeError(f"heat must be a floating-point heatmap, got {heat.dtype}")
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be a positive odd number, got {kernel}")
    if K < 0 or K > C * H * W:
        raise ValueError(f"K must be in [0, C * H * W] = [0, {C * H * W}], got {K}")
    return B, xp.compute_dtype("heat", heat.dtype)


def heatmap_peaks(xp, heat, wh, reg, K: int, kernel: int):
    """(boxes (B, K, 4), scores (B, K)) in the compute dtype, classes and inds (B, K) int64."""
    B, cdt = peaks_spec(xp, heat, wh, reg, K, kernel)
    h = xp.contiguous(xp.detach(heat), cdt)
    w = xp.contiguous(xp.detach(wh), cdt)
    r = None if reg is None else xp.contiguous(xp.detach(reg), cdt)
    boxes, scores = xp.empty((B, K, 4), cdt, h), xp.empty((B, K), cdt, h)
    classes, inds = xp.empty((B, K), xp.int64, h), xp.empty((B, K), xp.int64, h)
    xp.kernels(h).heatmap_peaks(xp.view(h), xp.view(w), None if r is None else xp.view(r), int(K), int(kernel),
                                xp.view(boxes), xp.view(scores), xp.view(classes), xp.view(inds), xp.stream(h))
    return boxes, scores, classes, inds


BBOX_XFORM_CLIP = 4.135166556742356  # math.log(1000.0 / 16), torchvision's default


def _weights(weights):
    w = [float(v) for v in weights]
    if len(w) != 4:
        raise ValueError(f"weights must be 4 numbers (wx, wy, ww, wh), got {weights!r}")
    return w


def coding_spec(xp, a, b, names):
    """The compute dtype after checking two (N, 4) arrays on one device."""
    xp.same_device(**{names[0]: a, names[1]: b})
    for name, x in zip(names, (a, b)):
        if len(x.shape) != 2 or int(x.shape[1]) != 4:
            raise ValueError(f"{name} must have shape (N, 4), got {tuple(x.shape)}")
    if int(a.shape[0]) != int(b.shape[0]):
        raise ValueError(f"{names[0]} and {names[1]} must have the same N, got {int(a.shape[0])} and {int(b.shape[0])}")
    return xp.compute_dtype(names[0], xp.promote(a.dtype, b.dtype))


def decode_boxes(xp, rel_codes, boxes, weights, clip: float):
    """(N, 4) boxes x1 y1 x2 y2 decoded from (N, 4) codes against (N, 4) boxes."""
    cdt = coding_spec(xp, rel_codes, boxes, ("rel_codes", "boxes"))
    d, a = xp.contiguous(xp.detach(rel_codes), cdt), xp.contiguous(xp.detach(boxes), cdt)
    out = xp.empty(tuple(d.shape), cdt, d)
    xp.kernels(d).decode_boxes(xp.view(d), xp.view(a), _weights(weights), float(clip), xp.view(out), xp.stream(d))
    return out


def encode_boxes(xp, reference_boxes, proposals, weights):
    """(N, 4) codes of reference_boxes against proposals."""
    cdt = coding_spec(xp, reference_boxes, proposals, ("reference_boxes", "proposals"))
    b, r = xp.contiguous(xp.detach(reference_boxes), cdt), xp.contiguous(xp.detach(proposals), cdt)
    out = xp.empty(tuple(b.shape), cdt, b)
    xp.kernels(b).encode_boxes(xp.view(b), xp.view(r), _weights(weights), xp.view(out), xp.stream(b))
    return out


def topk_spec(xp, logits, box_regression, anchors, topk: int):
    xp.same_device(logits=logits, box_regression=box_regression, anchors=anchors)
    if len(logits.shape) != 2:
        raise ValueError(f"logits must be (N, C), got shape {tuple(logits.shape)}")
    N = int(logits.shape[0])
    for name, x in (("box_regression", box_regression), ("anchors", anchors)):
        if tuple(x.shape) != (N, 4):
            raise ValueError(f"{name} must have shape (N, 4) = ({N}, 4), got {tuple(x.shape)}")
    if topk < 0:
        raise ValueError(f"topk must be >= 0, got {topk}")
    if not xp.is_float(logits.dtype):
        raise TypeError(f"logits must be floating point, got {logits.dtype}")
    return xp.compute_dtype("logits", logits.dtype)


def decode_topk(xp, logits, box_regression, anchors, score_thresh: float, topk: int, weights, clip: float,
                image_size):
    """(boxes (k, 4), scores (k,), labels (k,), anchor_idx (k,)): see the public decode_topk."""
    cdt = topk_spec(xp, logits, box_regression, anchors, topk)
    lg = xp.contiguous(xp.detach(logits), cdt)
    d = xp.contiguous(xp.detach(box_regression), cdt)
    a = xp.contiguous(xp.detach(anchors), cdt)
    boxes, scores = xp.empty((topk, 4), cdt, lg), xp.empty((topk,), cdt, lg)
    labels, idx = xp.empty((topk,), xp.int64, lg), xp.empty((topk,), xp.int64, lg)
    h, w = (-1.0, -1.0) if image_size is None else (float(image_size[0]), float(image_size[1]))
    k = xp.kernels(lg).decode_topk(xp.view(lg), xp.view(d), xp.view(a), float(score_thresh), int(topk),
                                   _weights(weights), float(clip), h, w, xp.view(boxes), xp.view(scores),
                                   xp.view(labels), xp.view(idx), xp.stream(lg))
    return xp.prefix(boxes, k), xp.prefix(scores, k), xp.prefix(labels, k), xp.prefix(idx, k)


YOLO_VERSIONS = ("v3", "v5")


def yolo_spec(xp, pred, anchors, stride: float, topk: int, version: str):
    """The compute dtype, after checking the arguments of decode_yolo."""
    if version not in YOLO_VERSIONS:
        raise ValueError(f"version must be 'v3' or 'v5', got {version!r}")
    shape = tuple(int(v) for v in pred.shape)
    if len(shape) != 4 or shape[3] < 6:
        raise ValueError(f"pred must be (A, H, W, 5 + C) with C >= 1, got shape {shape}")
    if tuple(anchors.shape) != (shape[0], 2):
        raise ValueError(f"anchors must have shape (A, 2) = ({shape[0]}, 2), got {tuple(anchors.shape)}")
    if not stride > 0:
        raise ValueError(f"stride must be > 0, got {stride}")
    if topk < 0:
        raise ValueError(f"topk must be >= 0, got {topk}")
    if not xp.is_float(pred.dtype):
        raise TypeError(f"pred must be floating point, got {pred.dtype}")
    xp.same_device(pred=pred, anchors=anchors)
    return xp.compute_dtype("pred", pred.dtype)


def decode_yolo(xp, pred, anchors, stride: float, conf_thres: float, topk: int, version: str):
    """(boxes (k, 4), scores (k,), labels (k,), index (k,)): see the public decode_yolo."""
    cdt = yolo_spec(xp, pred, anchors, stride, topk, version)
    p = xp.contiguous(xp.detach(pred), cdt)
    a = xp.contiguous(xp.detach(anchors), cdt)
    boxes, scores = xp.empty((topk, 4), cdt, p), xp.empty((topk,), cdt, p)
    labels, idx = xp.empty((topk,), xp.int64, p), xp.empty((topk,), xp.int64, p)
    k = xp.kernels(p).decode_yolo(xp.view(p), xp.view(a), float(stride), version == "v5", float(conf_thres),
                                  int(topk), xp.view(boxes), xp.view(scores), xp.view(labels), xp.view(idx),
                                  xp.stream(p))
    return xp.prefix(boxes, k), xp.prefix(scores, k), xp.prefix(labels, k), xp.prefix(idx, k)
