"""Decoding detector outputs: heatmap_peaks (CenterNet's peaks and boxes, no NMS), box coding
(torchvision's BoxCoder: decode_boxes, encode_boxes), decode_topk (a single-stage detector's
per-level threshold + top-k + decode in one pass) and anchor_grid (torchvision's AnchorGenerator)."""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import decode as launch
from ._launch.arrays import NUMPY

__all__ = ["heatmap_peaks", "decode_boxes", "encode_boxes", "decode_topk", "anchor_grid"]


@fe.public
def heatmap_peaks(heat, wh, reg=None, K: int = 100, kernel: int = 3):
    """CenterNet's decoding ("Objects as Points", ctdet_decode): the K highest peaks of class
    heatmaps and their boxes, without NMS. A peak is a pixel that no pixel of its kernel x kernel
    window exceeds (``max_pool2d(heat) == heat``); the K largest values of the suppressed map
    (peaks keep their value, the rest is 0) over classes and pixels, in descending order, as
    CenterNet's two torch.topk calls give them; boxes from the size and offset maps there:
    center ``(x + reg_x, y + reg_y)`` (``+ 0.5`` without reg), corners center -+ wh / 2.

    Args:
        heat: (B, C, H, W) heatmaps (CenterNet applies the sigmoid first), float32 / float64
            (half types computed in float32); NaN raises ValueError.
        wh: (B, 2, H, W) box width and height at each pixel (output-map units).
        reg: optional (B, 2, H, W) sub-pixel center offsets.
        K: how many peaks per image (at most C * H * W). kernel: the window, odd.

    Returns:
        (boxes (B, K, 4) x1 y1 x2 y2, scores (B, K), classes (B, K) int64, inds (B, K) int64
        pixel index y * W + x): numpy arrays, or tensors on heat's device (computed on the CPU).
        Equal scores are ordered by (class, y, x) (torch.topk leaves their order unspecified).

    Example:
        >>> import numpy as np, cvkernels
        >>> heat = np.zeros((1, 2, 4, 4), np.float32); heat[0, 1, 2, 1] = 0.9; heat[0, 0, 0, 3] = 0.5
        >>> wh = np.full((1, 2, 4, 4), 2.0, np.float32)
        >>> boxes, scores, classes, inds = cvkernels.heatmap_peaks(heat, wh, K=2)
        >>> scores.tolist(), classes.tolist(), boxes[0, 0].tolist()
        ([[0.8999999761581421, 0.5]], [[1, 0]], [0.5, 1.5, 2.5, 3.5])
    """
    t = fe.tensors(heat, wh, reg)
    if t:
        h, w, r = t
        if h.is_cuda:  # no CUDA kernel yet: the CPU's, results moved back
            out = fe.ops().heatmap_peaks(h.cpu(), w.cpu(), None if r is None else r.cpu(), int(K), int(kernel))
            return tuple(o.to(h.device) for o in out)
        return tuple(fe.ops().heatmap_peaks(h, w, r, int(K), int(kernel)))
    h = fe.array("heat", heat)
    boxes, scores, classes, inds = launch.heatmap_peaks(NUMPY, h, fe.array("wh", wh),
                                                        None if reg is None else fe.array("reg", reg), int(K),
                                                        int(kernel))
    return boxes, scores, classes, inds


# --- box coding and single-stage post-processing -------------------------------------------------

_CLIP = launch.BBOX_XFORM_CLIP


@fe.public
def decode_boxes(rel_codes, boxes, weights=(1.0, 1.0, 1.0, 1.0), bbox_xform_clip: float = _CLIP):
    """torchvision's ``BoxCoder(weights, bbox_xform_clip).decode_single(rel_codes, boxes)``: codes
    (dx, dy, dw, dh) against reference boxes (anchors or proposals, x1 y1 x2 y2) to boxes
    x1 y1 x2 y2, ``dw`` and ``dh`` clamped to bbox_xform_clip before the exponential. One pass
    (torchvision: about twenty tensor ops). Differentiable with respect to rel_codes.

    Args:
        rel_codes: (N, 4) or (N, 4 K) codes (K boxes per reference, as decode_single takes them).
        boxes: (N, 4) reference boxes. weights: (wx, wy, ww, wh). Both float32 or float64.

    Returns:
        (N, 4) or (N, 4 K) decoded boxes.

    Example:
        >>> import numpy as np, cvkernels
        >>> cvkernels.decode_boxes(np.zeros((1, 4)), np.array([[0.0, 0.0, 10.0, 20.0]])).tolist()
        [[0.0, 0.0, 10.0, 20.0]]
    """
    weights = tuple(float(w) for w in weights)
    t = fe.tensors(rel_codes, boxes)
    if t:
        d, a = t
        n, k4 = d.shape[0], (d.shape[1] if d.dim() == 2 else 0)
        if d.dim() == 2 and k4 % 4 == 0 and k4 > 4:  # K boxes per reference
            out = fe.ops().decode_boxes(d.reshape(-1, 4), a.repeat_interleave(k4 // 4, 0), list(weights),
                                        float(bbox_xform_clip))
            return out.reshape(n, k4)
        return fe.ops().decode_boxes(d, a, list(weights), float(bbox_xform_clip))
    d, a = fe.array("rel_codes", rel_codes), fe.array("boxes", boxes)
    if d.ndim == 2 and d.shape[1] % 4 == 0 and d.shape[1] > 4:
        k = d.shape[1] // 4
        return launch.decode_boxes(NUMPY, d.reshape(-1, 4), np.repeat(a, k, 0), weights,
                                   bbox_xform_clip).reshape(d.shape)
    return launch.decode_boxes(NUMPY, d, a, weights, bbox_xform_clip)


@fe.public
def encode_boxes(reference_boxes, proposals, weights=(1.0, 1.0, 1.0, 1.0)):
    """torchvision's box encoding (``_utils.encode_boxes``, ``BoxCoder.encode_single``): the codes
    (dx, dy, dw, dh) of reference_boxes (the targets, x1 y1 x2 y2) against proposals (anchors),
    ``wx (cx - cx_a) / w_a``, ``wy (cy - cy_a) / h_a``, ``ww log(w / w_a)``, ``wh log(h / h_a)``.

    Args:
        reference_boxes, proposals: (N, 4), float32 or float64. weights: (wx, wy, ww, wh).

    Returns:
        (N, 4) codes (no gradient: they are training targets).

    Example:
        >>> import numpy as np, cvkernels
        >>> cvkernels.encode_boxes(np.array([[1.0, 2.0, 11.0, 22.0]]), np.array([[0.0, 0.0, 10.0, 20.0]])).tolist()
        [[0.1, 0.1, 0.0, 0.0]]
    """
    weights = tuple(float(w) for w in weights)
    t = fe.tensors(reference_boxes, proposals)
    if t:
        return fe.ops().encode_boxes(*t, list(weights))
    return launch.encode_boxes(NUMPY, fe.array("reference_boxes", reference_boxes), fe.array("proposals", proposals),
                               weights)


@fe.public
def decode_topk(logits, box_regression, anchors, score_thresh: float = 0.05, topk: int = 1000,
                weights=(1.0, 1.0, 1.0, 1.0), bbox_xform_clip: float = _CLIP, image_size=None):
    """One feature level of a single-stage detector's post-processing (torchvision's RetinaNet
    ``postprocess_detections`` before NMS) in one pass: the (anchor, class) pairs whose
    ``sigmoid(logit) > score_thresh``, the ``topk`` best by score, and only their boxes decoded
    (decode_boxes) and, with image_size, clipped to the image. The sigmoid is computed only for
    logits near or above the threshold.

    Args:
        logits: (N, C) class logits of N anchors. box_regression: (N, 4) codes.
        anchors: (N, 4) x1 y1 x2 y2. score_thresh, topk: as RetinaNet's (0.05, 1000).
        weights, bbox_xform_clip: the box coder's. image_size: (height, width) or None.

    Returns:
        (boxes (k, 4), scores (k,), labels (k,) int64, anchor_idx (k,) int64), k <= topk, by
        descending score (equal scores by anchor, then class).

    Example:
        >>> import numpy as np, cvkernels
        >>> logits = np.array([[-5.0, 2.0], [1.0, -5.0]], np.float32)
        >>> anchors = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], np.float32)
        >>> boxes, scores, labels, idx = cvkernels.decode_topk(logits, np.zeros((2, 4), np.float32), anchors)
        >>> labels.tolist(), idx.tolist(), boxes[1].tolist()
        ([1, 0], [0, 1], [5.0, 5.0, 15.0, 15.0])
    """
    weights = tuple(float(w) for w in weights)
    size = None if image_size is None else [float(image_size[0]), float(image_size[1])]
    t = fe.tensors(logits, box_regression, anchors)
    if t:
        return tuple(fe.ops().decode_topk(*t, float(score_thresh), int(topk), list(weights), float(bbox_xform_clip),
                                          size))
    return launch.decode_topk(NUMPY, fe.array("logits", logits), fe.array("box_regression", box_regression),
                              fe.array("anchors", anchors), float(score_thresh), int(topk), weights,
                              float(bbox_xform_clip), size)


@fe.public
def decode_yolo(pred, anchors, stride: float, conf_thres: float = 0.25, topk: int = 30000, version: str = "v5"):
    """One level of a YOLO head, decoded, thresholded and cut to the top k in one pass (the
    decoding of ultralytics' YOLOv5 / YOLOv3 Detect layer plus the candidate selection of its
    non_max_suppression before the NMS itself, single label per box):

    * v5: ``xy = (2 sig(txy) - 0.5 + cell) * stride``, ``wh = (2 sig(twh))^2 * anchor``;
      v3: ``xy = (sig(txy) + cell) * stride``, ``wh = exp(twh) * anchor``;
    * score = max over classes of ``sig(obj) * sig(cls)`` (the first class on ties), kept when
      above conf_thres; the topk best by score (ties by cell); only their boxes decoded.

    Args:
        pred: (A, H, W, 5 + C) raw outputs of one level for one image (as YOLOv5's Detect lays
            them out: ``x.view(A, 5 + C, H, W).permute(0, 2, 3, 1)``). anchors: (A, 2) anchor
            sizes in pixels. stride: the level's stride in pixels.
        conf_thres, topk: YOLOv5's 0.25 and its max_nms (30,000) by default.

    Returns:
        (boxes (k, 4) x1 y1 x2 y2, scores (k,), labels (k,) int64, index (k,) int64: the cell
        ``a H W + y W + x``), by descending score.

    Example:
        >>> import numpy as np, cvkernels
        >>> pred = np.full((1, 2, 2, 6), -9.0, np.float32)
        >>> pred[0, 1, 0] = [0, 0, 0, 0, 9, 9]          # one confident cell at x=0, y=1
        >>> boxes, scores, labels, idx = cvkernels.decode_yolo(pred, np.array([[16, 32]], np.float32), 8)
        >>> boxes.tolist(), idx.tolist()
        ([[-4.0, -4.0, 12.0, 28.0]], [2])
    """
    t = fe.tensors(pred, anchors)
    if t:
        p, a = t
        if p.is_cuda:  # no CUDA kernel yet: the CPU's, results moved back
            out = fe.ops().decode_yolo(p.cpu(), a.cpu(), float(stride), float(conf_thres), int(topk), str(version))
            return tuple(o.to(p.device) for o in out)
        return tuple(fe.ops().decode_yolo(p, a, float(stride), float(conf_thres), int(topk), str(version)))
    return launch.decode_yolo(NUMPY, fe.array("pred", pred), fe.array("anchors", anchors), float(stride),
                              float(conf_thres), int(topk), str(version))


def anchor_grid(image_size, feature_sizes, sizes=((32,), (64,), (128,), (256,), (512,)),
                aspect_ratios=((0.5, 1.0, 2.0),) * 5, dtype=np.float32, device=None):
    """The anchors of torchvision's ``AnchorGenerator(sizes, aspect_ratios)`` for one image, all
    levels concatenated (level, then row, column, and the level's anchors): per level, cell
    anchors ``round([-w, -h, w, h] / 2)`` with ``h = size sqrt(r)``, ``w = size / sqrt(r)``, shifted
    to every cell of a feature map at stride ``image_size // feature_size``. The same float32
    operations as torchvision, so the same values.

    Args:
        image_size: (height, width) of the (padded) input image.
        feature_sizes: one (height, width) per level. sizes, aspect_ratios: per level.
        dtype: numpy dtype of the result. device: a torch device: return a tensor there.

    Returns:
        (sum over levels of H W A, 4) anchors x1 y1 x2 y2.

    Example:
        >>> import cvkernels
        >>> cvkernels.anchor_grid((64, 64), [(2, 2)], sizes=((32,),), aspect_ratios=((1.0,),)).tolist()
        [[-16.0, -16.0, 16.0, 16.0], [16.0, -16.0, 48.0, 16.0], [-16.0, 16.0, 16.0, 48.0], [16.0, 16.0, 48.0, 48.0]]
    """
    if not (len(feature_sizes) == len(sizes) == len(aspect_ratios)):
        raise ValueError(f"feature_sizes, sizes and aspect_ratios must have one entry per level, got "
                         f"{len(feature_sizes)}, {len(sizes)} and {len(aspect_ratios)}")
    dt = np.dtype(dtype)
    out = []
    for (fh, fw), scales, ratios in zip(feature_sizes, sizes, aspect_ratios):
        if fh <= 0 or fw <= 0:
            raise ValueError(f"feature sizes must be positive, got {(fh, fw)}")
        scales, ratios = np.asarray(scales, dtype=dt), np.asarray(ratios, dtype=dt)
        h_ratios = np.sqrt(ratios)
        w_ratios = dt.type(1) / h_ratios
        ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)
        hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
        base = np.round(np.stack([-ws, -hs, ws, hs], axis=1) / dt.type(2))
        sy, sx = int(image_size[0]) // int(fh), int(image_size[1]) // int(fw)
        shift_y, shift_x = np.meshgrid(np.arange(fh, dtype=np.int32) * sy, np.arange(fw, dtype=np.int32) * sx,
                                       indexing="ij")
        shifts = np.stack([shift_x.reshape(-1), shift_y.reshape(-1)] * 2, axis=1).astype(dt)
        out.append((shifts[:, None, :] + base[None, :, :]).reshape(-1, 4))
    anchors = np.concatenate(out) if out else np.zeros((0, 4), dt)
    if device is not None:
        return fe.torch_module().from_numpy(anchors).to(device)
    return anchors
