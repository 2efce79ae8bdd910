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
from . import arrays

# Integer labels are counted in place while their range hi - lo + 1 is at most this; beyond,
# they are encoded to 0..K-1 first. (The counts need 3 floats per value of the range.)
DENSE_RANGE = 1 << 22
# A confusion matrix over the range itself (sliced to the labels afterwards) while it has at
# most this many cells; beyond, labels are mapped to their row first.
DENSE_CELLS = 1 << 24

# Labels in torch tensors on a GPU are counted there (_C_cuda); the tests set this to send CPU
# tensors down the same path (with _C's kernels), so that its logic runs without a GPU.
TENSOR_PATH_ON_CPU = False


def _on_gpu(*xs) -> bool:
    """Whether every x is a torch tensor on a GPU (or, for the tests, on any device)."""
    torch = sys.modules.get("torch")
    return torch is not None and all(isinstance(x, torch.Tensor) and (x.is_cuda or TENSOR_PATH_ON_CPU) for x in xs)


def _multilabel_tensor(torch, y) -> bool:
    """is_multilabel for an integer (N, L) tensor, on its device."""
    if y.shape[1] < 2 or y.numel() == 0:
        return False
    lo, hi = torch.aminmax(y)
    return bool(((y == lo) | (y == hi)).all())


def to_numpy(x) -> np.ndarray:
    """A kernel's output as a numpy array (tensors are copied to host memory)."""
    return x if isinstance(x, np.ndarray) else x.cpu().numpy()


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
    """x (an array, or a tensor from device_scores) as 1-D: (n,) or (n, 1)."""
    if x.ndim == 2 and x.shape[1] == 1:
        return x.ravel()
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1d array, got an array of shape {tuple(x.shape)}")
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


def device_scores(name: str, x):
    """scores(), except that a torch tensor on a GPU stays there (float32 / float64,
    contiguous; ranking_columns then sorts it on the GPU). Finiteness is checked by the kernel
    that reads it."""
    if not _on_gpu(x):
        return scores(name, x)
    torch = sys.modules["torch"]
    x = x.detach()
    if x.dtype.is_complex:
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    elif x.dtype not in (torch.float32, torch.float64):
        x = x.double()
    return x.contiguous()


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
        self._xp = arrays.NUMPY  # the adapter of self.t and self.p
        if sample_weight is None and _on_gpu(y_true, y_pred) and self._on_device(y_true, y_pred, matrix):
            return
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
                self._count_in_place(t, p, lo, hi, np.result_type(yt.dtype, yp.dtype), matrix)
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

    def _count_in_place(self, t, p, lo, hi, label_dtype, matrix):
        """Integer labels t, p (int64, numpy or torch) counted over their range [lo, hi]."""
        self.t, self.p, self.lo, self.K = t, p, lo, hi - lo + 1
        self.label_dtype = label_dtype
        if matrix and self._dense_matrix():
            full = self.full_confusion(weighted=False)
            self._sums[False] = [np.diagonal(full).copy(), full.sum(1), full.sum(0)]
        tp, ts, ps = self.sums(weighted=False)
        self.classes = (np.flatnonzero(ts + ps) + lo).astype(self.label_dtype)
        self._finish()

    def _on_device(self, yt, yp, matrix) -> bool:
        """Unweighted integer labels held as torch tensors on a GPU: checked and counted where
        they are (the counts come back, not the labels). False when the pair needs the host
        path (floats, other shapes, a huge label range, targets sklearn rejects: the host path
        then gives the answer or the error)."""
        torch = sys.modules["torch"]
        if yt.device != yp.device or any(x.dtype.is_floating_point or x.dtype.is_complex for x in (yt, yp)):
            return False
        yt, yp = (x.reshape(-1) if x.dim() == 2 and x.shape[1] == 1 else x for x in (yt, yp))  # columns: 1-D
        if yt.dim() != yp.dim() or yt.dim() not in (1, 2) or yt.shape[0] != yp.shape[0] or yt.shape[0] < 1:
            return False
        xp = arrays.torch_arrays()
        if yt.dim() == 2:
            if yt.shape != yp.shape or not (_multilabel_tensor(torch, yt) and _multilabel_tensor(torch, yp)):
                return False
            self.n, self.w, self._xp, self.kind = yt.shape[0], None, xp, "multilabel-indicator"
            self.t = (yt != 0).to(torch.uint8).contiguous()
            self.p = (yp != 0).to(torch.uint8).contiguous()
            self.classes = np.arange(yt.shape[1])
            return True
        t, p = yt.to(torch.int64).contiguous(), yp.to(torch.int64).contiguous()
        lo_t, hi_t, lo_p, hi_p = torch.stack([t.min(), t.max(), p.min(), p.max()]).tolist()  # one synchronisation
        lo, hi = min(lo_t, lo_p), max(hi_t, hi_p)
        if hi - lo >= DENSE_RANGE:
            return False
        self.n, self.w, self._xp, self.kind, self.encoded = t.shape[0], None, xp, "binary", False
        label_dtype = torch.empty(0, dtype=torch.promote_types(yt.dtype, yp.dtype)).numpy().dtype
        self._count_in_place(t, p, lo, hi, label_dtype, matrix)
        return True

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
            xp = self._xp
            out = [xp.empty((self.K,), xp.float64, self.t) for _ in range(3)]
            xp.kernels(self.t).class_sums(xp.view(self.t), xp.view(self.p), self.w if weighted else None, self.lo,
                                          self.K, *map(xp.view, out), xp.stream(self.t))
            self._sums[weighted] = [to_numpy(o) for o in out]
        return self._sums[weighted]

    def full_confusion(self, weighted=True):
        """(K, K) float64 counts over the whole range (computed once)."""
        weighted = weighted and self.w is not None
        if weighted not in self._full:
            self._full[weighted] = self._confusion_counts(self.t, self.p, self.w if weighted else None, self.lo,
                                                          self.K)
        return self._full[weighted]

    def _confusion_counts(self, t, p, w, lo, K):
        xp = self._xp
        out = xp.empty((K, K), xp.float64, t)
        xp.kernels(t).confusion_counts(xp.view(t), xp.view(p), w, lo, K, xp.view(out), xp.stream(t))
        return to_numpy(out)

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
        row = self._like_labels(row)
        return self._confusion_counts(row[self.t - self.lo], row[self.p - self.lo], self.w, 0, max(L, 1))

    def _like_labels(self, a: np.ndarray):
        """a where the labels are (a numpy array, or a tensor on their device)."""
        if self._xp is arrays.NUMPY:
            return a
        return self._xp.torch.as_tensor(a, device=self.t.device)

    def indicator_sums(self, samplewise=False, weighted=True, columns=None):
        """Multilabel (tp, true_sum, pred_sum) per label (or per sample), float64; over the
        given label columns only (in their order) when columns is not None."""
        t, p, xp = self.t, self.p, self._xp
        if columns is not None:
            cols = self._like_labels(np.asarray(columns, dtype=np.int64).ravel())
            t, p = xp.contiguous(t[:, cols], xp.uint8), xp.contiguous(p[:, cols], xp.uint8)
        m = self.n if samplewise else t.shape[1]
        out = [xp.empty((m,), xp.float64, t) for _ in range(3)]
        xp.kernels(t).indicator_sums(xp.view(t), xp.view(p), self.w if weighted else None, samplewise,
                                     *map(xp.view, out), xp.stream(t))
        return [to_numpy(o) for o in out]


def binary_curve(y_score: np.ndarray, positive: np.ndarray, w):
    """(thresholds descending, tps, fps) of one binary problem (the distinct scores)."""
    n = y_score.shape[0]
    th = np.empty(n, y_score.dtype)
    tps, fps = np.empty(n), np.empty(n)
    k = _C.binary_curve(y_score, np.ascontiguousarray(positive, dtype=np.uint8), w, th, tps, fps)
    return th[:k], tps[:k], fps[:k]


def ranking_columns(y_score: np.ndarray, labels=None, indicator=None, w=None, max_fpr=None):
    """Per column of an (N, C) score matrix: (npos, nneg, auc, pauc or None, ap), float64 (C,)
    each; positives are labels == column (int64 codes) or indicator != 0 ((N, C) uint8).
    y_score may be a tensor from device_scores: on a GPU and unweighted it is ranked there,
    else copied to host memory."""
    if not isinstance(y_score, np.ndarray):
        N, C = y_score.shape
        if y_score.is_cuda and w is None and N >= 1 and C >= 1 and N * C < (1 << 31):
            return _ranking_columns_gpu(y_score, labels, indicator, max_fpr)
        y_score = to_numpy(y_score)
    C = y_score.shape[1]
    outs = [np.empty(C) for _ in range(4)]
    pauc = np.empty(C) if max_fpr is not None and 0 < max_fpr < 1 else None
    _C.ranking_columns(y_score, labels, indicator, w, float(max_fpr or 0.0), outs[0], outs[1], outs[2], pauc, outs[3])
    return outs[0], outs[1], outs[2], pauc, outs[3]


def _ranking_columns_gpu(y_score, labels, indicator, max_fpr):
    """ranking_columns by _C_cuda (cub's radix sort, then one scan per column)."""
    xp = arrays.torch_arrays()
    torch = xp.torch
    if not bool(torch.isfinite(y_score).all()):
        raise ValueError("y_score must be finite: it contains NaN or infinity")
    C = y_score.shape[1]
    k = xp.kernels(y_score)
    dev = y_score.device
    lab = None if labels is None else torch.as_tensor(labels, dtype=torch.int64, device=dev)
    ind = None if indicator is None else torch.as_tensor(np.ascontiguousarray(indicator), device=dev)
    outs = [xp.empty((C,), xp.float64, y_score) for _ in range(4)]
    pauc = xp.empty((C,), xp.float64, y_score) if max_fpr is not None and 0 < max_fpr < 1 else None
    scratch = xp.empty((k.ranking_columns_scratch(xp.view(y_score)),), xp.uint8, y_score)
    k.ranking_columns(xp.view(y_score), None if lab is None else xp.view(lab), None if ind is None else xp.view(ind),
                      None, float(max_fpr or 0.0), *(xp.view(o) for o in outs[:3]),
                      None if pauc is None else xp.view(pauc), xp.view(outs[3]), xp.view(scratch), xp.stream(y_score))
    npos, nneg, auc, ap = (to_numpy(o) for o in outs)
    return npos, nneg, auc, None if pauc is None else to_numpy(pauc), ap


def topk_hits(y_score: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: the true class (codes, positions in [0, C)) among the k best of its row, ties
    ranked by the higher class index first (scikit-learn's reversed stable argsort)."""
    hit = np.empty(y_score.shape[0], dtype=np.uint8)
    _C.topk_hits(np.ascontiguousarray(y_score), np.ascontiguousarray(codes, dtype=np.int64), int(k), hit)
    return hit.view(bool)
