"""Launchers of the classification metric kernels (csrc/classification/): scikit-learn's
rules for targets (what is binary, multiclass or a multilabel indicator; which labels are
present; sample weights) and one call into _C per count or curve.

Labels: integer (and bool) labels are counted where they are, over the range [lo, hi] of
their values, with no np.unique (a sort of every label) and no re-encoding; other labels
(strings, integral floats) and integers spread over a huge range are encoded to codes
0..K-1 through np.unique first. Either way `Targets.classes` are the sorted labels present in
y_true or y_pred, as sklearn.utils.multiclass.unique_labels gives them."""

from __future__ import annotations

import sys

import numpy as np

from .. import _C

# Integer labels are counted in place while their range hi - lo + 1 is at most this; beyond,
# they are encoded to 0..K-1 first. (The counts need 3 floats per value of the range.)
DENSE_RANGE = 1 << 22
# A confusion matrix over the range itself (sliced to the labels afterwards) while it has at
# most this many cells; beyond, labels are mapped to their row first.
DENSE_CELLS = 1 << 24


def as_array(name: str, x) -> np.ndarray:
    """x as a numpy array on the CPU (torch tensors of any device are copied to host memory;
    lists become arrays; strings stay strings)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        return x.cpu().numpy()
    if isinstance(x, str) or x is None:
        raise ValueError(f"{name} must be array-like (an array, a tensor or a sequence), got {x!r}")
    return np.asarray(x)


def as_1d(name: str, x: np.ndarray) -> np.ndarray:
    if x.ndim == 2 and x.shape[1] == 1:
        return x.ravel()
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1d array, got an array of shape {x.shape}")
    return x


def sample_weights(sample_weight, n: int):
    """(n,) float64 weights, or None."""
    if sample_weight is None:
        return None
    w = np.ascontiguousarray(as_1d("sample_weight", as_array("sample_weight", sample_weight)), dtype=np.float64)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight must have one entry per sample ({n}), got {w.shape[0]}")
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight must be finite: it contains NaN or infinity")
    return w


def scores(name: str, x) -> np.ndarray:
    """Real scores as a contiguous float32 / float64 array (integers in float64), finite."""
    a = as_array(name, x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    return np.ascontiguousarray(a, dtype=dtype)


def is_multilabel(y: np.ndarray) -> bool:
    """sklearn's rule: 2-D, more than one column, at most two distinct values that are integers
    (any integral numbers, read as 0 = absent, anything else = present)."""
    if y.ndim != 2 or y.shape[1] < 2 or y.size == 0 or y.dtype.kind not in "biuf":
        return False
    lo, hi = y.min(), y.max()
    if not np.all((y == lo) | (y == hi)):
        return False
    return y.dtype.kind in "biu" or (float(lo).is_integer() and float(hi).is_integer())


def check_not_continuous(name: str, y: np.ndarray) -> None:
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contains NaN or infinity")
        if np.any(y != np.trunc(y)):
            raise ValueError(f"{name} holds continuous values; classification metrics need class labels")
    elif y.dtype.kind not in "biuUSO":
        raise ValueError(f"{name} must hold class labels, got dtype {y.dtype}")


def target_of(name: str, y: np.ndarray):
    """(kind, labels present): kind is 'binary', 'multiclass' or 'multilabel-indicator'
    (scikit-learn's names); the sorted distinct labels of a 1-D target (None for multilabel)."""
    kind = type_of_target(name, y, count=False)
    if kind == "multilabel-indicator":
        return kind, None
    present = labels_present(as_1d(name, y))
    return ("multiclass" if len(present) > 2 else "binary"), present


def type_of_target(name: str, y: np.ndarray, count: bool = True) -> str:
    """'binary', 'multiclass' or 'multilabel-indicator' of one target. With count=False a
    1-D target is only checked and called 'labels' (the pair's kind then follows from the
    labels present in both, which is what sklearn's rule amounts to)."""
    if is_multilabel(y):
        return "multilabel-indicator"
    if y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(f"{name}: multiclass-multioutput targets are not supported (shape {y.shape})")
    y = as_1d(name, y)
    check_not_continuous(name, y)
    if not count:
        return "labels"
    return "multiclass" if len(labels_present(y)) > 2 else "binary"


def labels_present(y: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D y (integers counted over their range, in parallel,
    instead of sorted)."""
    if y.size and y.dtype.kind in "biu":
        t = np.ascontiguousarray(y, dtype=np.int64)
        lo, hi = _C.label_range(t)
        if hi - lo <= 1:  # the extremes are present: nothing else to look for
            return np.unique(np.array([lo, hi], dtype=y.dtype))
        if hi - lo < min(DENSE_RANGE, 4 * t.size + 1024):
            counts = [np.empty(hi - lo + 1) for _ in range(3)]
            _C.class_sums(t, t, None, lo, hi - lo + 1, *counts)
            return (np.flatnonzero(counts[1]) + lo).astype(y.dtype)
    return np.unique(y)


class Targets:
    """A checked (y_true, y_pred) pair of labels, as sklearn's _check_targets types it.

    kind: 'binary', 'multiclass' or 'multilabel-indicator'; classes: the sorted labels present
    (multilabel: 0..L-1); n: samples. 1-D: t, p int64 arrays of values in [lo, lo + K) (the
    labels themselves, or their codes); multilabel: t, p (n, L) uint8 indicators."""

    def __init__(self, y_true, y_pred, sample_weight=None, matrix=False):
        """matrix=True: the caller wants the confusion matrix (its first pass then also finds
        the labels present)."""
        self._sums, self._full = {}, {}
        yt = as_array("y_true", y_true)
        yp = as_array("y_pred", y_pred)
        n_t = yt.shape[0] if yt.ndim else 0
        n_p = yp.shape[0] if yp.ndim else 0
        if yt.ndim == 0 or yp.ndim == 0 or n_t != n_p:
            raise ValueError(f"y_true and y_pred must have the same number of samples, got {yt.shape} and {yp.shape}")
        if n_t < 1:
            raise ValueError("y_true and y_pred are empty: at least one sample is needed")
        self.n = n_t
        self.w = sample_weights(sample_weight, self.n)
        kinds = [type_of_target("y_true", yt, count=False), type_of_target("y_pred", yp, count=False)]
        if kinds[0] != kinds[1]:  # one multilabel, one not: name the other's kind as sklearn does
            a, b = (type_of_target(nm, y) for nm, y in (("y_true", yt), ("y_pred", yp)))
            raise ValueError(f"Classification metrics can't handle a mix of {a} and {b} targets")
        self.kind = "binary" if kinds[0] == "labels" else kinds[0]
        if self.kind == "multilabel-indicator":
            if yt.shape != yp.shape:
                raise ValueError(f"y_true and y_pred must have the same shape, got {yt.shape} and {yp.shape}")
            self.t = np.ascontiguousarray(yt != 0, dtype=np.uint8)
            self.p = np.ascontiguousarray(yp != 0, dtype=np.uint8)
            self.classes = np.arange(yt.shape[1])
            return
        yt, yp = as_1d("y_true", yt), as_1d("y_pred", yp)
        self.encoded = False
        if yt.dtype.kind in "biu" and yp.dtype.kind in "biu":
            t = np.ascontiguousarray(yt, dtype=np.int64)
            p = np.ascontiguousarray(yp, dtype=np.int64)
            lo_t, hi_t = _C.label_range(t)
            lo_p, hi_p = _C.label_range(p)
            lo, hi = min(lo_t, lo_p), max(hi_t, hi_p)
            if hi - lo < DENSE_RANGE:
                self.t, self.p, self.lo, self.K = t, p, lo, hi - lo + 1
                self.label_dtype = np.result_type(yt.dtype, yp.dtype)
                if matrix and self._dense_matrix():
                    full = self.full_confusion(weighted=False)
                    self._sums[False] = [np.diagonal(full).copy(), full.sum(1), full.sum(0)]
                tp, ts, ps = self.sums(weighted=False)
                self.classes = (np.flatnonzero(ts + ps) + lo).astype(self.label_dtype)
                self._finish()
                return
        try:
            uniq, inv = np.unique(np.concatenate([yt, yp]), return_inverse=True)
        except TypeError:
            raise ValueError("Mix of label input types (string and number)") from None
        self.encoded = True
        self.t = np.ascontiguousarray(inv[: self.n], dtype=np.int64)
        self.p = np.ascontiguousarray(inv[self.n :], dtype=np.int64)
        self.lo, self.K, self.classes, self.label_dtype = 0, len(uniq), uniq, uniq.dtype
        self._finish()

    def _dense_matrix(self) -> bool:
        """Whether a confusion matrix counts the whole value range (no remapping pass): while
        its square is small next to the samples; else only the rows asked for are counted."""
        return self.K * self.K <= min(DENSE_CELLS, max(1 << 20, 8 * self.n))

    def _finish(self):
        if self.kind == "binary" and len(self.classes) > 2:
            self.kind = "multiclass"

    def sums(self, weighted=True):
        """(tp, true_sum, pred_sum) over the whole range [lo, lo + K), float64 (computed once)."""
        weighted = weighted and self.w is not None
        if weighted not in self._sums:
            out = [np.empty(self.K) for _ in range(3)]
            _C.class_sums(self.t, self.p, self.w if weighted else None, self.lo, self.K, *out)
            self._sums[weighted] = out
        return self._sums[weighted]

    def full_confusion(self, weighted=True):
        """(K, K) float64 counts over the whole range (computed once)."""
        weighted = weighted and self.w is not None
        if weighted not in self._full:
            full = np.empty((self.K, self.K))
            _C.confusion_counts(self.t, self.p, self.w if weighted else None, self.lo, self.K, full)
            self._full[weighted] = full
        return self._full[weighted]

    def positions(self, labels) -> np.ndarray:
        """Index of each label in [0, K) of the counted range, -1 for labels that never occur."""
        labels = np.asarray(labels)
        if labels.ndim != 1:
            labels = labels.ravel()
        if self.encoded:
            try:
                at = np.searchsorted(self.classes, labels)
            except TypeError:
                return np.full(labels.shape, -1, dtype=np.int64)
            at = np.minimum(at, len(self.classes) - 1)
            ok = self.classes[at] == labels
            return np.where(ok, at, -1).astype(np.int64)
        out = np.full(labels.shape, -1, dtype=np.int64)
        for i, v in enumerate(labels.tolist()):
            if isinstance(v, (int, float, bool, np.integer, np.floating)) and float(v).is_integer():
                k = int(v) - self.lo
                if 0 <= k < self.K:
                    out[i] = k
        return out

    def label_sums(self, labels):
        """(tp, true_sum, pred_sum) per label of `labels` (zeros for labels that never occur)."""
        at = self.positions(labels)
        full = self.sums()
        return [np.where(at >= 0, f[np.maximum(at, 0)], 0.0) for f in full]

    def confusion(self, labels) -> np.ndarray:
        """(L, L) float64 counts (weight sums) of (y_true, y_pred) pairs among `labels`; pairs
        with a label outside `labels` are left out."""
        at = self.positions(labels)
        L = len(at)
        if self._dense_matrix():
            full = self.full_confusion()
            ok = at >= 0
            if ok.all() and L == self.K and np.array_equal(at, np.arange(L)):
                return full
            out = np.zeros((L, L))
            out[np.ix_(ok, ok)] = full[np.ix_(at[ok], at[ok])]
            return out
        row = np.full(self.K, L, dtype=np.int64)  # value -> its row, L for left out
        row[at[at >= 0]] = np.flatnonzero(at >= 0)
        out = np.empty((L, L))
        _C.confusion_counts(row[self.t - self.lo], row[self.p - self.lo], self.w, 0, max(L, 1), out)
        return out

    def indicator_sums(self, samplewise=False, weighted=True, columns=None):
        """Multilabel (tp, true_sum, pred_sum) per label (or per sample), float64; over the
        given label columns only (in their order) when columns is not None."""
        t, p = self.t, self.p
        if columns is not None:
            cols = np.asarray(columns, dtype=np.int64).ravel()
            t, p = np.ascontiguousarray(t[:, cols]), np.ascontiguousarray(p[:, cols])
        m = self.n if samplewise else t.shape[1]
        out = [np.empty(m) for _ in range(3)]
        _C.indicator_sums(t, p, self.w if weighted else None, samplewise, *out)
        return out


def binary_curve(y_score: np.ndarray, positive: np.ndarray, w):
    """(thresholds descending, tps, fps) of one binary problem (the distinct scores)."""
    n = y_score.shape[0]
    th = np.empty(n, y_score.dtype)
    tps, fps = np.empty(n), np.empty(n)
    k = _C.binary_curve(y_score, np.ascontiguousarray(positive, dtype=np.uint8), w, th, tps, fps)
    return th[:k], tps[:k], fps[:k]


def ranking_columns(y_score: np.ndarray, labels=None, indicator=None, w=None, max_fpr=None):
    """Per column of an (N, C) score matrix: (npos, nneg, auc, pauc or None, ap), float64 (C,)
    each; positives are labels == column (int64 codes) or indicator != 0 ((N, C) uint8)."""
    C = y_score.shape[1]
    outs = [np.empty(C) for _ in range(4)]
    pauc = np.empty(C) if max_fpr is not None and 0 < max_fpr < 1 else None
    _C.ranking_columns(y_score, labels, indicator, w, float(max_fpr or 0.0), outs[0], outs[1], outs[2], pauc, outs[3])
    return outs[0], outs[1], outs[2], pauc, outs[3]


def topk_hits(y_score: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: the true class (codes, positions in [0, C)) among the k best of its row, ties
    ranked by the higher class index first (scikit-learn's reversed stable argsort)."""
    hit = np.empty(y_score.shape[0], dtype=np.uint8)
    _C.topk_hits(np.ascontiguousarray(y_score), np.ascontiguousarray(codes, dtype=np.int64), int(k), hit)
    return hit.view(bool)
