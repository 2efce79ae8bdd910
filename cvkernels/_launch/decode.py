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
