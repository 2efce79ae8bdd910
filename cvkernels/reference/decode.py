"""The dense decoders from their definitions, in numpy: CenterNet's peaks and YOLO's grid / anchor boxes."""

from __future__ import annotations

import numpy as np


def heatmap_peaks(heat, wh, reg=None, K=100, kernel=3):
    """(boxes, scores, classes, inds) of the K largest values of heat * (maxpool(heat) == heat),
    ties by (class, y, x)."""
    h = np.asarray(heat)
    B, C, H, W = h.shape
    r = kernel // 2
    padded = np.full((B, C, H + 2 * r, W + 2 * r), -np.inf, dtype=np.float64)
    padded[:, :, r:r + H, r:r + W] = h
    hmax = np.full(h.shape, -np.inf)
    for dy in range(kernel):
        for dx in range(kernel):
            hmax = np.maximum(hmax, padded[:, :, dy:dy + H, dx:dx + W])
    v = np.where(hmax == h, h, 0 * h).reshape(B, -1)
    order = np.stack([np.lexsort((np.arange(C * H * W), -v[b]))[:K] for b in range(B)])
    scores = np.take_along_axis(v, order, 1).astype(h.dtype)
    classes, inds = order // (H * W), order % (H * W)
    ys, xs = (inds // W).astype(h.dtype), (inds % W).astype(h.dtype)
    whs = np.asarray(wh).reshape(B, 2, H * W)
    w = np.take_along_axis(whs[:, 0], inds, 1)
    hh = np.take_along_axis(whs[:, 1], inds, 1)
    if reg is None:
        cx, cy = xs + h.dtype.type(0.5), ys + h.dtype.type(0.5)
    else:
        regs = np.asarray(reg).reshape(B, 2, H * W)
        cx, cy = xs + np.take_along_axis(regs[:, 0], inds, 1), ys + np.take_along_axis(regs[:, 1], inds, 1)
    boxes = np.stack([cx - w / 2, cy - hh / 2, cx + w / 2, cy + hh / 2], -1)
    return boxes, scores, classes.astype(np.int64), inds.astype(np.int64)


def decode_yolo(pred, anchors, stride, conf_thres=0.25, topk=30000, version="v5"):
    """YOLO's decoding of one level, written out: for every cell (a, y, x) and its raw outputs
    t, the class scores sig(obj) sig(cls_c), the best (first on ties), kept above conf_thres;
    the box (v5: centre (2 sig(t) - 0.5 + cell) stride, size (2 sig(t))^2 anchor; v3: centre
    (sig(t) + cell) stride, size exp(t) anchor) as x1 y1 x2 y2. The topk best by score, ties by
    cell index. Returns (boxes, scores, labels, index)."""
    p = np.asarray(pred, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    A, H, W, _ = p.shape
    sig = 1 / (1 + np.exp(-p))
    rows = []
    for a in range(A):
        for y in range(H):
            for x in range(W):
                s = sig[a, y, x]
                cls = s[5:] * s[4]
                c = int(np.argmax(cls))
                if not cls[c] > conf_thres:
                    continue
                if version == "v5":
                    cx, cy = (2 * s[0] - 0.5 + x) * stride, (2 * s[1] - 0.5 + y) * stride
                    w, h = (2 * s[2]) ** 2 * anchors[a, 0], (2 * s[3]) ** 2 * anchors[a, 1]
                else:
                    cx, cy = (s[0] + x) * stride, (s[1] + y) * stride
                    w, h = np.exp(p[a, y, x, 2]) * anchors[a, 0], np.exp(p[a, y, x, 3]) * anchors[a, 1]
                rows.append((-cls[c], (a * H + y) * W + x, c, [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]))
    rows.sort(key=lambda r: (r[0], r[1]))
    rows = rows[:topk]
    return (np.array([r[3] for r in rows]).reshape(-1, 4), np.array([-r[0] for r in rows]),
            np.array([r[2] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64))
