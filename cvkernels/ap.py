"""Average-precision building blocks: match_detections (one image, COCO or VOC rule),
average_precision (one class: AP and the PR curve) and keypoint_oks (COCO's keypoint
similarity), for numpy arrays and torch tensors."""

from __future__ import annotations

import numpy as np

from . import _C
from . import _frontend as fe
from ._frontend import array as as_numpy, is_tensor, torch_module

__all__ = ["match_detections", "average_precision", "keypoint_oks"]

_RULES = ("coco", "voc")
_INTERP = ("coco101", "voc11", "area")


def _np(name, x, dtype):
    if x is None:
        return None
    if is_tensor(x):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(as_numpy(name, x), dtype=dtype)


def _back(like, *arrays):
    if not is_tensor(like):
        return arrays if len(arrays) > 1 else arrays[0]
    torch = torch_module()
    out = tuple(torch.from_numpy(np.ascontiguousarray(a)).to(like.device) if isinstance(a, np.ndarray) else a for a in arrays)
    return out if len(out) > 1 else out[0]


@fe.public
def match_detections(ious=None, iou_thresholds=(0.5,), gt_iscrowd=None, gt_ignore=None, rule="coco",
                     dt_boxes=None, gt_boxes=None):
    """Match one image's detections (in decreasing score order) to its ground truth.

    Args:
        ious: (D, G) IoU matrix; or give dt_boxes (D, 4) and gt_boxes (G, 4) as (x1, y1, x2, y2)
            and it is computed (COCO rule: a crowd's IoU is intersection / detection area).
        iou_thresholds: float or sequence (T,).
        gt_iscrowd: (G,) bool, COCO rule only: a crowd can absorb many detections, and is
            ignored ground truth.
        gt_ignore: (G,) bool: ignored ground truth (COCO: also out-of-range areas; VOC:
            "difficult").
        rule: "coco" (IoU >= t, best free ground truth, regular before ignored; pycocotools)
            or "voc" (IoU > t with the highest-IoU ground truth; a duplicate is a false
            positive; the VOC devkit).

    Returns:
        (matches, ignored): int64 (T, D) matched ground-truth index or -1, and bool (T, D):
        detections that count neither as true nor false positives. A detection is a true
        positive when matches >= 0 and not ignored.

    Example:
        >>> import numpy as np, cvkernels
        >>> m, ig = cvkernels.match_detections(np.array([[0.9, 0.1], [0.8, 0.0]]), 0.5)
        >>> m.tolist(), ig.tolist()
        ([[0, -1]], [[False, False]])
    """
    if rule not in _RULES:
        raise ValueError(f"rule must be 'coco' or 'voc', got {rule!r}")
    like = ious if ious is not None else dt_boxes
    thrs = [float(iou_thresholds)] if np.ndim(iou_thresholds) == 0 else [float(t) for t in iou_thresholds]
    if ious is None:
        if dt_boxes is None or gt_boxes is None:
            raise ValueError("give ious, or both dt_boxes and gt_boxes")
        d = _np("dt_boxes", dt_boxes, np.float64).reshape(-1, 4)
        g = _np("gt_boxes", gt_boxes, np.float64).reshape(-1, 4)
        crowd = np.zeros(len(g), np.uint8) if gt_iscrowd is None or rule == "voc" else _np("gt_iscrowd", gt_iscrowd, np.uint8)
        xywh = lambda b: np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1)  # noqa: E731
        iou = _C.bbox_iou_xywh(xywh(d), xywh(g), crowd)
    else:
        iou = _np("ious", ious, np.float64)
        if iou.ndim != 2:
            raise ValueError(f"ious must have shape (D, G), got {iou.shape}")
    D, G = iou.shape
    crowd = np.zeros(G, np.uint8) if gt_iscrowd is None else _np("gt_iscrowd", gt_iscrowd, np.uint8).reshape(-1)
    ignore = np.zeros(G, np.uint8) if gt_ignore is None else _np("gt_ignore", gt_ignore, np.uint8).reshape(-1)
    for name, v in (("gt_iscrowd", crowd), ("gt_ignore", ignore)):
        if v.shape != (G,):
            raise ValueError(f"{name} must have shape ({G},), got {v.shape}")
    if rule == "coco":
        ignore = (ignore | crowd).astype(np.uint8)  # a crowd is ignored ground truth (pycocotools)
    match, dig = _C.match_detections(iou, thrs, crowd, ignore, rule == "voc")
    return _back(like, match.astype(np.int64), dig.astype(bool))


@fe.public
def average_precision(scores, tp, num_positives, interpolation="coco101", ignore=None):
    """AP of one class from scored detections marked true / false positive.

    Args:
        scores: (N,) detection scores. tp: (N,) bool true positives.
        num_positives: number of (non-ignored) ground-truth objects.
        interpolation: "coco101" (precision envelope sampled at 101 recall points, as
            pycocotools), "voc11" (11 points, VOC2007) or "area" (area under the envelope,
            VOC2010+).
        ignore: optional (N,) bool: detections that count neither way.

    Returns:
        (ap, precision (N,), recall (N,)): precision and recall after each detection in
        decreasing score order (stable: ties keep input order). ap is -1 when num_positives
        is 0 (undefined, as pycocotools marks it).

    Example:
        >>> import cvkernels
        >>> ap, p, r = cvkernels.average_precision([0.9, 0.8, 0.7], [True, False, True], 2)
        >>> round(float(ap), 4)
        0.835
    """
    if interpolation not in _INTERP:
        raise ValueError(f"interpolation must be one of {_INTERP}, got {interpolation!r}")
    like = scores
    s = _np("scores", scores, np.float64).reshape(-1)
    t = _np("tp", tp, bool).reshape(-1)
    if t.shape != s.shape:
        raise ValueError(f"tp must have the shape of scores {s.shape}, got {t.shape}")
    if np.isnan(s).any():
        raise ValueError("scores must not be NaN")
    ig = np.zeros_like(t) if ignore is None else _np("ignore", ignore, bool).reshape(-1)
    npos = int(num_positives)
    if npos < 0:
        raise ValueError(f"num_positives must be >= 0, got {num_positives}")
    order = np.argsort(-s, kind="mergesort")
    tps = np.cumsum(t[order] & ~ig[order]).astype(float)
    fps = np.cumsum(~t[order] & ~ig[order]).astype(float)
    if npos == 0:
        return _back(like, -1.0, np.zeros(len(s)), np.zeros(len(s)))
    rc = tps / npos
    if interpolation == "coco101":
        pr = tps / (fps + tps + np.spacing(1))
        env = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
        rec_thrs = np.linspace(0.0, 1.00, 101)
        idx = np.searchsorted(rc, rec_thrs, side="left")
        q = np.where(idx < len(env), env[np.minimum(idx, max(len(env) - 1, 0))] if len(env) else 0.0, 0.0)
        ap = float(np.mean(q))
    else:
        with np.errstate(invalid="ignore"):
            pr = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
        if interpolation == "voc11":
            ap = float(np.mean([pr[rc >= x].max() if (rc >= x).any() else 0.0 for x in np.arange(0.0, 1.1, 0.1)]))
        else:
            mrec = np.concatenate([[0.0], rc, [1.0]])
            mpre = np.concatenate([[0.0], pr, [0.0]])
            mpre = np.maximum.accumulate(mpre[::-1])[::-1]
            i = np.flatnonzero(mrec[1:] != mrec[:-1])
            ap = float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    return _back(like, ap, pr, rc)


# COCO's 17 person keypoints (pycocotools' kpt_oks_sigmas).
COCO_KEYPOINT_SIGMAS = (.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087,
                        .089, .089)


@fe.public
def keypoint_oks(dt_keypoints, gt_keypoints, gt_boxes, gt_areas, sigmas=None):
    """Object keypoint similarity of every (detection, ground truth) pair, as pycocotools'
    COCOeval.computeOks.

    Args:
        dt_keypoints: (D, K, 3) or (D, 3K) detected keypoints (x, y, v); v is not read.
        gt_keypoints: (G, K, 3) or (G, 3K) ground-truth keypoints; v > 0 marks a labelled one.
        gt_boxes: (G, 4) ground-truth boxes as COCO's (x, y, w, h): a ground truth with no
            labelled keypoint measures how far each detected keypoint lies outside the box
            grown by its size on every side.
        gt_areas: (G,) ground-truth areas (the object scale s^2).
        sigmas: (K,) per-keypoint constants; default COCO's 17 person keypoints.

    Returns:
        (D, G) float64 OKS (a tensor on the caller's device for tensors): the mean over the
        ground truth's labelled keypoints of exp(-d^2 / (2 s^2 (2 sigma)^2)). Equal to
        pycocotools' values to the rounding of exp.

    Example:
        >>> import numpy as np, cvkernels
        >>> gt = np.array([[10.0, 10.0, 2.0] * 17])
        >>> oks = cvkernels.keypoint_oks(gt + [1.0, 0.0, 0.0] * 17, gt, [[0, 0, 20, 20]], [400.0])
        >>> oks.shape, round(float(oks[0, 0]), 3)
        ((1, 1), 0.871)
    """
    s = np.asarray(COCO_KEYPOINT_SIGMAS if sigmas is None else _np("sigmas", sigmas, np.float64), np.float64).reshape(-1)
    K = len(s)
    if K == 0:
        raise ValueError("sigmas must not be empty")
    d = _np("dt_keypoints", dt_keypoints, np.float64)
    g = _np("gt_keypoints", gt_keypoints, np.float64)
    for name, a in (("dt_keypoints", d), ("gt_keypoints", g)):
        if not (a.ndim == 3 and a.shape[1:] == (K, 3)) and not (a.ndim == 2 and a.shape[1] == 3 * K):
            raise ValueError(f"{name} must have shape (N, {K}, 3) or (N, {3 * K}), got {a.shape}")
    d, g = d.reshape(len(d), 3 * K), g.reshape(len(g), 3 * K)
    b = _np("gt_boxes", gt_boxes, np.float64)
    a = _np("gt_areas", gt_areas, np.float64).reshape(-1)
    if b.shape != (len(g), 4):
        raise ValueError(f"gt_boxes must have shape ({len(g)}, 4), got {b.shape}")
    if a.shape != (len(g),):
        raise ValueError(f"gt_areas must have shape ({len(g)},), got {a.shape}")
    return _back(dt_keypoints, _C.keypoint_oks(d, g, b, a, [float(v) for v in s]))
