"""Bipartite matching: linear_sum_assignment (scipy.optimize's, for one cost matrix or a batch,
solved in parallel) and hungarian_match (DETR's HungarianMatcher: its matching cost and the
assignment of every image in one call). The kernels are in csrc/assignment/."""

from __future__ import annotations

import numpy as np

from . import _C, _frontend as fe
from . import _threads

__all__ = ["linear_sum_assignment", "hungarian_match"]


_SOLVED = (np.dtype(np.float32), np.dtype(np.float64))  # passed as they are (solved in float64)


def _host(x, name):
    """A numpy view of an array or tensor (tensors moved to the CPU; half types widened)."""
    if fe.is_tensor(x):
        torch = fe.torch_module()
        x = x.detach()
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        return x.cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    return a


def _index(x, like_torch):
    if like_torch:
        return fe.torch_module().from_numpy(x)
    return x


@fe.public
def linear_sum_assignment(cost_matrix, maximize=False, sizes=None):
    """The assignment of least total cost (or greatest, maximize=True), as
    scipy.optimize.linear_sum_assignment: each row to a distinct column when there are no
    more rows than columns (else each column to a distinct row). +inf forbids a cell; a NaN
    (or -inf) cell, or no full assignment over the allowed cells, raises ValueError.

    Args:
        cost_matrix: one (N, M) matrix, a list of them (each its own shape), or a padded
            (B, N, M) batch, numpy or torch (any device; solved on the CPU in float64).
        maximize: maximize the total instead.
        sizes: with a (B, N, M) batch, (B, 2) valid (rows, cols) per matrix: matrix b is the
            top-left sizes[b] block. None: every matrix whole.

    Returns:
        One matrix: (row_ind, col_ind) int64, rows ascending (numpy arrays, or CPU tensors for
        a tensor input). A list or a batch: a list of such pairs. The optimal total equals
        scipy's; the assignment is scipy's wherever the optimum is unique (the same algorithm
        and tie rules, so usually also where it is not). The matrices of a batch are solved in
        parallel, one per thread.

    Example:
        >>> import numpy as np, cvkernels
        >>> c = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
        >>> rows, cols = cvkernels.linear_sum_assignment(c)
        >>> cols.tolist(), int(c[rows, cols].sum())
        ([1, 0, 2], 5)
    """
    if type(cost_matrix) in (list, tuple) and sizes is None:
        # the common batch, float numpy matrices, goes to C++ as it is (None: something else)
        _threads.sync()
        pairs = _C.linear_sum_assignment(cost_matrix, bool(maximize), True)
        if pairs is not None:
            return pairs
    like_torch = fe.is_tensor(cost_matrix) or (isinstance(cost_matrix, (list, tuple)) and any(
        fe.is_tensor(c) for c in cost_matrix))
    if isinstance(cost_matrix, (list, tuple)):
        if sizes is not None:
            raise ValueError("sizes goes with a padded (B, N, M) batch, not with a list of matrices")
        mats = [_host(c, f"cost_matrix[{i}]") for i, c in enumerate(cost_matrix)]
        single = False
    else:
        a = _host(cost_matrix, "cost_matrix")
        if a.ndim == 2 and sizes is None:
            mats, single = [a], True
        elif a.ndim == 3:
            single = False
            if sizes is None:
                mats = list(a)
            else:
                s = np.asarray(_host(sizes, "sizes"), dtype=np.int64)
                if s.shape != (a.shape[0], 2):
                    raise ValueError(f"sizes must have shape (B, 2) = ({a.shape[0]}, 2), got {s.shape}")
                if (s < 0).any() or (s[:, 0] > a.shape[1]).any() or (s[:, 1] > a.shape[2]).any():
                    raise ValueError(f"sizes must lie within the padded matrices' ({a.shape[1]}, {a.shape[2]})")
                mats = [a[b, : s[b, 0], : s[b, 1]] for b in range(a.shape[0])]
        else:
            raise ValueError(f"cost_matrix must be (N, M) or (B, N, M), got shape {a.shape}"
                             + (" (sizes needs a (B, N, M) batch)" if sizes is not None else ""))
    _threads.sync()
    pairs = _C.linear_sum_assignment([np.ascontiguousarray(m, dtype=m.dtype if m.dtype in _SOLVED else np.float64)
                                      for m in mats], bool(maximize))
    pairs = [(_index(r, like_torch), _index(c, like_torch)) for r, c in pairs]
    return pairs[0] if single else pairs


@fe.public
def hungarian_match(pred_logits, pred_boxes, targets, cost_class=1.0, cost_bbox=1.0, cost_giou=1.0):
    """DETR's HungarianMatcher in one call: per image, the matching cost of every query and
    ground-truth object, ``cost_bbox * L1 + cost_class * (-softmax(logits)[label]) +
    cost_giou * (-GIoU)`` on (cx, cy, w, h) boxes, and its linear_sum_assignment. Only each
    image's own (Q, n) block is computed (DETR computes the whole (B*Q, sum n) matrix), in the
    logits' float type with torch's operations, and the images are matched in parallel.

    Args:
        pred_logits: (B, Q, C) class logits (softmax over C, as DETR; the last class is
            "no object" in DETR and simply never a target label).
        pred_boxes: (B, Q, 4) predicted boxes (cx, cy, w, h), normalized.
        targets: B dicts with "labels" (n_b,) integers in [0, C) and "boxes" (n_b, 4) (cx, cy,
            w, h).
        cost_class, cost_bbox, cost_giou: the weights.

    Returns:
        A list of B pairs (index_i, index_j) of int64 (CPU tensors for tensor inputs, as
        DETR's matcher returns), min(Q, n_b) each: query index_i[k] matched to target
        index_j[k], queries ascending.

    Example:
        >>> import numpy as np, cvkernels
        >>> logits = np.zeros((1, 2, 3), np.float32)
        >>> boxes = np.array([[[.2, .2, .1, .1], [.7, .7, .2, .2]]], np.float32)
        >>> t = [{"labels": np.array([1]), "boxes": np.array([[.7, .7, .2, .2]], np.float32)}]
        >>> [(i.tolist(), j.tolist()) for i, j in cvkernels.hungarian_match(logits, boxes, t)]
        [([1], [0])]
    """
    like_torch = fe.is_tensor(pred_logits)
    logits, boxes = _host(pred_logits, "pred_logits"), _host(pred_boxes, "pred_boxes")
    if logits.ndim != 3:
        raise ValueError(f"pred_logits must be (B, Q, C), got shape {logits.shape}")
    if boxes.shape != logits.shape[:2] + (4,):
        raise ValueError(f"pred_boxes must be (B, Q, 4) = {logits.shape[:2] + (4,)}, got {boxes.shape}")
    dtype = np.float64 if logits.dtype == np.float64 else np.float32
    if like_torch:  # torch's softmax, the one DETR's matcher runs, in the logits' dtype
        torch = fe.torch_module()
        probs = torch.from_numpy(np.ascontiguousarray(logits, dtype=dtype)).softmax(-1).numpy()
    else:
        x = logits.astype(dtype)
        e = np.exp(x - x.max(-1, keepdims=True))
        probs = e / e.sum(-1, keepdims=True)
    if not isinstance(targets, (list, tuple)) or len(targets) != logits.shape[0]:
        raise ValueError(f"targets must be a list of {logits.shape[0]} dicts with 'labels' and 'boxes'")
    labels, gt_boxes = [], []
    for b, t in enumerate(targets):
        if not isinstance(t, dict) or "labels" not in t or "boxes" not in t:
            raise ValueError(f"targets[{b}] must be a dict with 'labels' and 'boxes'")
        lab = _host(t["labels"], f"targets[{b}]['labels']")
        if lab.dtype.kind not in "iub":
            raise TypeError(f"targets[{b}]['labels'] must be integers, got dtype {lab.dtype}")
        labels.append(np.ascontiguousarray(lab.reshape(-1), dtype=np.int64))
        box = _host(t["boxes"], f"targets[{b}]['boxes']")
        gt_boxes.append(np.ascontiguousarray(box.reshape(-1, 4) if box.size == 0 else box, dtype=dtype))
    _threads.sync()
    pairs = _C.detr_match(np.ascontiguousarray(probs, dtype=dtype), np.ascontiguousarray(boxes, dtype=dtype), labels,
                          gt_boxes, float(cost_class), float(cost_bbox), float(cost_giou))
    return [(_index(r, like_torch), _index(c, like_torch)) for r, c in pairs]
