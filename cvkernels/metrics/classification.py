"""Classification metrics under scikit-learn's names, arguments and values (sklearn.metrics),
so that switching is one import line::

    from cvkernels.metrics import f1_score, roc_auc_score   # was: from sklearn.metrics import ...

Inputs are numpy arrays, sequences or torch tensors (CPU; CUDA tensors are copied to the
host); results are what scikit-learn returns (Python floats, numpy arrays). Values equal
scikit-learn's to float64 rounding (the tests compare them on random and hand-made inputs):

* label metrics (accuracy, balanced accuracy, precision / recall / F-beta, confusion
  matrices) come from one multi-threaded counting pass over the labels
  (csrc/classification/label_counts_cpu.cpp), with no sort of the labels;
* ranking metrics (ROC and PR curves, ROC AUC, average precision) from a radix sort of each
  column's scores and one walk over the distinct scores (csrc/classification/ranking_cpu.cpp),
  columns in parallel.

Where scikit-learn warns (an ill-defined precision, a single class in y_true) these warn with
`UndefinedMetricWarning` (cvkernels' own class: a UserWarning, as sklearn's is). Empty inputs
raise ValueError, as in scikit-learn. The top-level `cvkernels.average_precision` is the
detection AP; `cvkernels.metrics.average_precision_score` is this one.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from .._frontend import public
from .._launch import classification as L

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "average_precision_score", "balanced_accuracy_score",
    "confusion_matrix", "f1_score", "fbeta_score", "multilabel_confusion_matrix", "precision_recall_curve",
    "precision_recall_fscore_support", "precision_score", "recall_score", "roc_auc_score", "roc_curve",
    "top_k_accuracy_score",
]


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the input (a division by zero, a single class present)."""


AVERAGES = (None, "micro", "macro", "weighted", "samples")


# --- averaging helpers, as sklearn averages ----------------------------------------------------------


def _average(a, weights=None, normalize=True):
    a = np.asarray(a, dtype=np.float64)
    if not normalize:
        return float(a.sum() if weights is None else np.dot(a, weights))
    if weights is not None and float(np.sum(weights)) == 0.0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return float(np.average(a, weights=weights))


def _nanaverage(a, weights=None):
    """The average of the non-NaN entries (NaN when all are NaN); weights summing to zero fall
    back to the plain mean."""
    a = np.asarray(a, dtype=np.float64)
    if a.shape[0] == 0:
        return math.nan
    keep = ~np.isnan(a)
    if not keep.any():
        return math.nan
    if weights is None:
        return float(np.mean(a[keep]))
    w = np.asarray(weights, dtype=np.float64)[keep]
    if float(w.sum()) == 0.0:
        return float(np.mean(a[keep]))
    return float(np.average(a[keep], weights=w))


def _check_zero_division(zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if math.isnan(zero_division):
            return math.nan
    raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")


def _divide(num, den, metric, modifier, average, warn_for, zero_division):
    """num / den per label, zero_division's value where den == 0 (warning when 'warn')."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    zero = den == 0
    out = num / np.where(zero, 1.0, den)
    if not zero.any():
        return out
    out[zero] = _check_zero_division(zero_division)
    if isinstance(zero_division, str) and metric in warn_for:
        where, what = ("sample", "label") if average != "samples" else ("label", "sample")
        reason = "due to" if out.shape[0] == 1 else f"in {what}s with"
        warnings.warn(f"{metric.capitalize()} is ill-defined and being set to 0.0 {reason} no {modifier} {where}s. "
                      "Use `zero_division` parameter to control this behavior.", UndefinedMetricWarning, stacklevel=3)
    return out


# --- label metrics -------------------------------------------------------------------------------------


@public
def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Fraction (or, with normalize=False, number / weight sum) of samples whose prediction
    equals the truth; for multilabel indicators (N, L), whole rows must match.

    y_true, y_pred: (N,) labels or (N, L) 0/1 indicators; sample_weight: (N,) or None.

    Example:
        >>> from cvkernels.metrics import accuracy_score
        >>> accuracy_score([0, 1, 2, 3], [0, 2, 1, 3])
        0.5
    """
    tg = L.Targets(y_true, y_pred, sample_weight)
    if tg.kind == "multilabel-indicator":
        tp, ts, ps = tg.indicator_sums(samplewise=True, weighted=False)
        hits = (tp == ts) & (tp == ps)
        return _average(hits, tg.w, normalize)
    tp = tg.sums()[0].sum()
    if not normalize:
        return float(tp)
    total = tg.n if tg.w is None else float(tg.w.sum())
    if total == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return float(tp / total)


@public
def top_k_accuracy_score(y_true, y_score, *, k=2, normalize=True, sample_weight=None, labels=None):
    """Fraction of samples whose true class is among the k highest scores (ties: the class
    with the higher index ranks first, as scikit-learn's reversed stable argsort orders them).

    y_true: (N,) labels; y_score: (N, C) scores, or (N,) for two classes (k=1 then thresholds
    at 0.5 for probabilities, else 0); labels: the C classes in column order (default: those
    of y_true).

    Example:
        >>> from cvkernels.metrics import top_k_accuracy_score
        >>> top_k_accuracy_score([0, 1, 2], [[.5, .2, .3], [.3, .4, .3], [.6, .3, .1]], k=2)
        0.6666666666666666
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    yt = L.as_1d("y_true", L.as_array("y_true", y_true))
    kind, present = L.target_of("y_true", yt)
    if kind == "binary" and labels is not None and len(labels) > 2:
        kind = "multiclass"
    s = L.scores("y_score", y_score)
    if kind == "binary":
        if s.ndim == 2 and s.shape[1] != 1:
            raise ValueError(f"y_true is binary while y_score is 2d with {s.shape[1]} classes. If y_true does not "
                             "contain all the labels, labels must be provided.")
        s = L.as_1d("y_score", s)
    elif s.ndim != 2:
        raise ValueError(f"y_score needs to be of shape (n_samples, n_classes), since y_true contains multiple "
                         f"classes. Got y_score.shape={s.shape}.")
    if s.shape[0] != yt.shape[0]:
        raise ValueError(f"y_true and y_score must have the same number of samples, got {yt.shape[0]} and {s.shape[0]}")
    w = L.sample_weights(sample_weight, yt.shape[0])
    n_score_classes = s.shape[1] if s.ndim == 2 else 2
    if labels is None:
        classes = present
        if len(classes) != n_score_classes:
            raise ValueError(f"Number of classes in 'y_true' ({len(classes)}) not equal to the number of classes in "
                             f"'y_score' ({n_score_classes}). You can provide a list of all known classes by "
                             "assigning it to the `labels` parameter.")
    else:
        labels = L.as_1d("labels", np.asarray(labels))
        classes = np.unique(labels)
        if len(classes) != len(labels):
            raise ValueError("Parameter 'labels' must be unique.")
        if not np.array_equal(classes, labels):
            raise ValueError("Parameter 'labels' must be ordered.")
        if len(classes) != n_score_classes:
            raise ValueError(f"Number of given labels ({len(classes)}) not equal to the number of classes in "
                             f"'y_score' ({n_score_classes}).")
        if len(np.setdiff1d(yt, classes)):
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
    if k >= len(classes):
        warnings.warn(f"'k' ({k}) greater than or equal to 'n_classes' ({len(classes)}) will result in a perfect "
                      "score and is therefore meaningless.", UndefinedMetricWarning, stacklevel=2)
    code = np.searchsorted(classes, yt)
    if kind == "binary":
        if k == 1:
            threshold = 0.5 if s.min() >= 0 and s.max() <= 1 else 0
            hits = (s > threshold).astype(np.int64) == code
        else:
            hits = np.ones(s.shape, dtype=bool)
    else:
        hits = L.topk_hits(s, code.astype(np.int64), k)
    if normalize:
        return _average(hits, w)
    return float(np.sum(hits)) if w is None else float(np.dot(hits, w))


@public
def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """(L, L) matrix C where C[i, j] counts samples of true label labels[i] predicted as
    labels[j] (weight sums with sample_weight: int64 without weights, float64 with).

    labels: the rows / columns (default: the sorted labels present in either); samples with
    a label outside them are left out. normalize: None, 'true' (rows sum to 1), 'pred'
    (columns) or 'all'.

    Example:
        >>> from cvkernels.metrics import confusion_matrix
        >>> confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
        array([[2, 0, 0],
               [0, 0, 1],
               [1, 0, 2]])
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of {{'true', 'pred', 'all', None}}, got {normalize!r}")
    tg = L.Targets(y_true, y_pred, sample_weight, matrix=True)
    if tg.kind not in ("binary", "multiclass"):
        raise ValueError(f"{tg.kind} is not supported")
    if labels is None:
        labels = tg.classes
    else:
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError("'labels' should contain at least one label.")
        if not _any_true_in(tg, labels):
            raise ValueError("At least one label specified must be in y_true")
    cm = tg.confusion(labels)
    if sample_weight is None or L.as_array("sample_weight", sample_weight).dtype.kind in "iub":
        cm = cm.astype(np.int64)
    with np.errstate(all="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        warnings.warn("A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have the "
                      "correct shape, use the 'labels' parameter to pass all known labels.", UserWarning, stacklevel=2)
    return cm


def _any_true_in(tg, labels) -> bool:
    """Whether y_true holds any of labels (by presence, whatever the weights)."""
    at = tg.positions(labels)
    at = at[at >= 0]
    return bool(at.size) and bool(np.any(tg.sums(weighted=False)[1][at] > 0))


@public
def multilabel_confusion_matrix(y_true, y_pred, *, sample_weight=None, labels=None, samplewise=False):
    """(L, 2, 2) one-vs-rest confusion matrices [[tn, fp], [fn, tp]], one per label (or per
    sample with samplewise=True, multilabel only).

    Example:
        >>> from cvkernels.metrics import multilabel_confusion_matrix
        >>> multilabel_confusion_matrix([1, 0, 1], [1, 1, 0]).tolist()
        [[[1, 1], [1, 0]], [[0, 1], [1, 1]]]
    """
    tg = L.Targets(y_true, y_pred, sample_weight)
    tp, true_sum, pred_sum = _label_sums(tg, labels, samplewise)
    fp, fn = pred_sum - tp, true_sum - tp
    if tg.w is not None and samplewise:
        tn = tg.w * tg.t.shape[1] - tp - fp - fn
    elif tg.w is not None:
        tn = tg.w.sum() - tp - fp - fn
    elif samplewise:
        tn = tg.t.shape[1] - tp - fp - fn
    else:
        tn = tg.n - tp - fp - fn
    out = np.stack([tn, fp, fn, tp]).T.reshape(-1, 2, 2)
    return out.astype(np.int64) if tg.w is None else out


def _label_sums(tg, labels, samplewise):
    """(tp, true_sum, pred_sum) for `labels` (default: those present), as sklearn's
    multilabel_confusion_matrix computes them."""
    if tg.kind != "multilabel-indicator":
        if samplewise:
            raise ValueError("Samplewise metrics are not available outside of multilabel classification.")
        return tg.label_sums(tg.classes if labels is None else labels)
    if labels is not None:
        labels = np.asarray(labels)
        n_lab = tg.t.shape[1]
        if labels.size and (labels.shape != tg.classes.shape or np.any(labels != tg.classes)):
            if labels.max() > n_lab - 1:
                raise ValueError(f"All labels must be in [0, n labels) for multilabel targets. "
                                 f"Got {labels.max()} > {n_lab - 1}")
            if labels.min() < 0:
                raise ValueError(f"All labels must be in [0, n labels) for multilabel targets. Got {labels.min()} < 0")
    return tg.indicator_sums(samplewise=samplewise, columns=labels)


@public
def precision_recall_fscore_support(y_true, y_pred, *, beta=1.0, labels=None, pos_label=1, average=None,
                                    warn_for=("precision", "recall", "f-score"), sample_weight=None,
                                    zero_division="warn"):
    """Precision tp / (tp + fp), recall tp / (tp + fn), F-beta and support (the number of true
    samples) per label, or averaged: 'binary' (pos_label only), 'micro' (global counts),
    'macro' (unweighted mean over labels), 'weighted' (by support), 'samples' (multilabel:
    per sample). zero_division: the value where a denominator is 0 ('warn': 0 and a warning).

    Returns (precision, recall, fbeta, support): arrays (L,) for average=None, else three
    floats and None.

    Example:
        >>> from cvkernels.metrics import precision_recall_fscore_support
        >>> p, r, f, s = precision_recall_fscore_support([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1])
        >>> p.round(3).tolist(), r.tolist(), s.tolist()
        ([0.667, 0.0, 0.0], [1.0, 0.0, 0.0], [2, 2, 2])
    """
    _check_zero_division(zero_division)
    if average not in AVERAGES and average != "binary":
        raise ValueError(f"average has to be one of {AVERAGES}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    tg = L.Targets(y_true, y_pred, sample_weight)
    if average == "binary":
        if tg.kind == "binary":
            if pos_label not in tg.classes.tolist() and len(tg.classes) >= 2:
                raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {tg.classes}")
            labels = [pos_label]
        else:
            options = [a for a in AVERAGES if not (a == "samples" and tg.kind == "multiclass")]
            raise ValueError(f"Target is {tg.kind} but average='binary'. Please choose another average setting, "
                             f"one of {options!r}.")
    elif pos_label not in (None, 1):
        warnings.warn(f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got "
                      f"{average!r}). You may use labels=[pos_label] to specify a single positive class.",
                      UserWarning, stacklevel=2)
    samplewise = average == "samples"
    tp, true_sum, pred_sum = _label_sums(tg, labels, samplewise)
    if average == "micro":
        tp, true_sum, pred_sum = (np.array([x.sum()]) for x in (tp, true_sum, pred_sum))
    beta2 = beta**2
    precision = _divide(tp, pred_sum, "precision", "predicted", average, warn_for, zero_division)
    recall = _divide(tp, true_sum, "recall", "true", average, warn_for, zero_division)
    if np.isposinf(beta):
        f = recall
    elif beta == 0:
        f = precision
    else:
        f = _divide((1 + beta2) * tp, beta2 * true_sum + pred_sum, "f-score", "true nor predicted", average,
                    warn_for, zero_division)
    if average == "weighted":
        weights = true_sum
    elif average == "samples":
        weights = tg.w
    else:
        weights = None
    if average is not None:
        return _nanaverage(precision, weights), _nanaverage(recall, weights), _nanaverage(f, weights), None
    support = true_sum.astype(np.int64) if tg.w is None else true_sum
    return precision, recall, f, support


def _one_score(which, y_true, y_pred, beta, labels, pos_label, average, sample_weight, zero_division):
    out = precision_recall_fscore_support(y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label,
                                          average=average, warn_for=(which,), sample_weight=sample_weight,
                                          zero_division=zero_division)
    return out[{"precision": 0, "recall": 1, "f-score": 2}[which]]


@public
def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                    zero_division="warn"):
    """Precision tp / (tp + fp); arguments as precision_recall_fscore_support.

    Example:
        >>> from cvkernels.metrics import precision_score
        >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
        0.6666666666666666
    """
    return _one_score("precision", y_true, y_pred, 1.0, labels, pos_label, average, sample_weight, zero_division)


@public
def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                 zero_division="warn"):
    """Recall tp / (tp + fn); arguments as precision_recall_fscore_support.

    Example:
        >>> from cvkernels.metrics import recall_score
        >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
        0.5
    """
    return _one_score("recall", y_true, y_pred, 1.0, labels, pos_label, average, sample_weight, zero_division)


@public
def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary", sample_weight=None,
                zero_division="warn"):
    """F-beta (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp); arguments as
    precision_recall_fscore_support.

    Example:
        >>> from cvkernels.metrics import fbeta_score
        >>> round(fbeta_score([0, 1, 1, 0], [1, 1, 0, 0], beta=2.0), 6)
        0.5
    """
    return _one_score("f-score", y_true, y_pred, beta, labels, pos_label, average, sample_weight, zero_division)


@public
def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn"):
    """F1 = 2 tp / (2 tp + fp + fn); arguments as precision_recall_fscore_support.

    Example:
        >>> from cvkernels.metrics import f1_score
        >>> f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro")
        0.26666666666666666
    """
    return _one_score("f-score", y_true, y_pred, 1.0, labels, pos_label, average, sample_weight, zero_division)


@public
def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted=False):
    """The mean over the classes of y_true of each class's recall (classes only predicted are
    left out, with a warning); adjusted=True rescales so that chance is 0.

    Example:
        >>> from cvkernels.metrics import balanced_accuracy_score
        >>> balanced_accuracy_score([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1])
        0.625
    """
    tg = L.Targets(y_true, y_pred, sample_weight)
    if tg.kind not in ("binary", "multiclass"):
        raise ValueError(f"{tg.kind} is not supported")
    tp, true_sum, _ = tg.label_sums(tg.classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = tp / true_sum
    if np.any(np.isnan(per_class)):
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=2)
        per_class = per_class[~np.isnan(per_class)]
    score = float(np.mean(per_class))
    if adjusted:
        chance = 1 / per_class.shape[0]
        score = (score - chance) / (1 - chance)
    return score


# --- ranking metrics -----------------------------------------------------------------------------------


def _positive_of(yt: np.ndarray, pos_label, classes):
    """y_true == pos_label as a 0/1 array, with sklearn's default pos_label rule (classes: the
    labels present)."""
    if pos_label is None:
        if classes.dtype.kind in "OUS" or classes.shape[0] > 2 or not any(
                np.array_equal(classes, np.asarray(c)) for c in ([0, 1], [-1, 1], [0], [-1], [1])):
            raise ValueError(f"y_true takes value in {{{', '.join(map(repr, classes.tolist()))}}} and pos_label is "
                             "not specified: either make y_true take value in {0, 1} or {-1, 1} or pass pos_label "
                             "explicitly.")
        pos_label = 1
    return np.ascontiguousarray(yt == pos_label, dtype=np.uint8)


def _curve_inputs(y_true, y_score, pos_label, sample_weight):
    yt_raw = L.as_array("y_true", y_true)
    kind, present = L.target_of("y_true", yt_raw)
    if not (kind == "binary" or (kind == "multiclass" and pos_label is not None)):
        raise ValueError(f"{kind} format is not supported")
    yt = L.as_1d("y_true", yt_raw)
    s = L.as_1d("y_score", L.scores("y_score", y_score))
    if s.shape[0] != yt.shape[0]:
        raise ValueError(f"y_true and y_score must have the same number of samples, got {yt.shape[0]} and {s.shape[0]}")
    w = L.sample_weights(sample_weight, yt.shape[0])
    if yt.shape[0] == 0:
        raise ValueError("y_true and y_score are empty: at least one sample is needed")
    th, tps, fps = L.binary_curve(s, _positive_of(yt, pos_label, present), w)
    return th.astype(np.float64), tps, fps


@public
def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    """The ROC curve of a binary problem: (fpr, tpr, thresholds), one point per distinct score
    from the highest down, plus (0, 0) at threshold inf; drop_intermediate removes collinear
    points (those that do not change the curve's area).

    y_true: (N,) labels (pos_label: the positive one; default 1 for {0, 1} or {-1, 1});
    y_score: (N,) scores.

    Example:
        >>> from cvkernels.metrics import roc_curve
        >>> fpr, tpr, th = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> fpr.tolist(), tpr.tolist(), th.tolist()
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], [inf, 0.8, 0.4, 0.35, 0.1])
    """
    th, tps, fps = _curve_inputs(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, th = fps[keep], tps[keep], th[keep]
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    th = np.r_[np.inf, th]
    if fps[-1] <= 0:
        warnings.warn("No negative samples in y_true, false positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn("No positive samples in y_true, true positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, th


@public
def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=False):
    """Precision and recall of a binary problem at each distinct score: (precision, recall,
    thresholds), recall decreasing, ending at (precision 1, recall 0) with no threshold.

    Example:
        >>> from cvkernels.metrics import precision_recall_curve
        >>> p, r, th = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> p.round(3).tolist(), r.tolist(), th.tolist()
        ([0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8])
    """
    th, tps, fps = _curve_inputs(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, th = fps[keep], tps[keep], th[keep]
    ps = tps + fps
    precision = np.where(ps != 0, tps / np.where(ps != 0, ps, 1.0), 0.0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.", UserWarning,
                      stacklevel=2)
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], th[::-1]


def _score_matrix(y_score, n):
    """The scores of roc_auc_score / average_precision_score: numpy, or a tensor left on its
    GPU (L.device_scores; L.ranking_columns ranks it there)."""
    s = L.device_scores("y_score", y_score)
    if s.shape[0] != n:
        raise ValueError(f"y_true and y_score must have the same number of samples, got {n} and {s.shape[0]}")
    return s


def _average_columns(kind, y_ind, s, w, average, max_fpr=None, codes=None):
    """sklearn's _average_binary_score over the columns of a binary-indicator problem.
    kind: 'auc' or 'ap'; y_ind: (N, C) uint8 (None when codes (N,) int64 give the columns'
    positives); s: (N, C) scores."""
    if average not in AVERAGES:
        raise ValueError(f"average has to be one of {AVERAGES}")
    average_weight = None
    if average in ("micro", "samples"):  # reshaped or transposed: on the host
        s = L.to_numpy(s)
    if average == "micro":
        if y_ind is None:
            y_ind = _binarize(codes, s.shape[1])
        y_ind, s = y_ind.reshape(-1, 1), s.reshape(-1, 1)
        w = None if w is None else np.repeat(w, s.shape[0] // w.shape[0])
        codes = None
    elif average == "weighted":
        if y_ind is not None:
            average_weight = (y_ind.T.astype(np.float64) @ w) if w is not None else y_ind.sum(0, dtype=np.float64)
        else:
            average_weight = np.bincount(codes, weights=w, minlength=s.shape[1]).astype(np.float64)
        if np.isclose(average_weight.sum(), 0.0):
            return 0
    elif average == "samples":
        if y_ind is None:
            y_ind = _binarize(codes, s.shape[1])
        average_weight = w
        w, codes = None, None
        y_ind, s = np.ascontiguousarray(y_ind.T), np.ascontiguousarray(s.T)
    score = _column_scores(kind, s, codes, y_ind, w, max_fpr)
    if average is None:
        return score
    if average_weight is not None:
        score[average_weight == 0] = 0
    return float(np.average(score, weights=average_weight))


def _binarize(codes, C):
    out = np.zeros((codes.shape[0], C), dtype=np.uint8)
    out[np.arange(codes.shape[0]), codes] = 1
    return out


def _column_scores(kind, s, codes, y_ind, w, max_fpr):
    """AUC or AP of every column, with sklearn's warnings (columns are independent problems)."""
    npos, nneg, auc, pauc, ap = L.ranking_columns(s, labels=codes, indicator=y_ind, w=w, max_fpr=max_fpr)
    if kind == "ap":
        if np.any(npos == 0):
            warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.",
                          UserWarning, stacklevel=4)
        return ap
    # auc: a column with one class present (whatever the weights) is NaN with a warning
    if codes is not None:
        cnt_pos = np.bincount(codes, minlength=s.shape[1])
    else:
        cnt_pos = y_ind.sum(0, dtype=np.int64)
    one_class = (cnt_pos == 0) | (cnt_pos == s.shape[0])
    out = auc if pauc is None else pauc
    out = out.copy()
    for _ in range(int(np.count_nonzero(one_class))):
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=4)
    out[one_class] = np.nan
    if w is not None:  # both classes present but one has weight 0 only: sklearn's roc_curve gives NaN
        out[~one_class & ((npos == 0) | (nneg == 0))] = np.nan
    return out


@public
def average_precision_score(y_true, y_score, *, average="macro", pos_label=1, sample_weight=None):
    """Average precision, the step sum AP = sum_n (R_n - R_{n-1}) P_n over the distinct
    scores (not the trapezoid), as scikit-learn defines it.

    y_true: (N,) binary labels, (N,) multiclass labels (then y_score (N, C), one-vs-rest
    over the sorted classes) or (N, C) multilabel indicators; average: None, 'micro',
    'macro', 'weighted' or 'samples'.

    Example:
        >>> from cvkernels.metrics import average_precision_score
        >>> round(average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 6)
        0.833333
    """
    yt = L.as_array("y_true", y_true)
    kind, present = L.target_of("y_true", yt)
    s = _score_matrix(y_score, yt.shape[0])
    w = L.sample_weights(sample_weight, yt.shape[0])
    if kind == "binary":
        yt = L.as_1d("y_true", yt)
        if present.shape[0] == 2 and pos_label not in present.tolist():
            raise ValueError(f"pos_label={pos_label} is not a valid label. It should be one of {present}")
        s = L.as_1d("y_score", s)
        ind = np.ascontiguousarray((yt == pos_label).reshape(-1, 1), dtype=np.uint8)
        return float(_column_scores("ap", s.reshape(-1, 1), None, ind, w, None)[0])
    if pos_label != 1:
        raise ValueError(f"Parameter pos_label is fixed to 1 for {kind} y_true. Do not set pos_label or set "
                         "pos_label to 1.")
    if kind == "multilabel-indicator":
        if s.shape != yt.shape:
            raise ValueError(f"y_true and y_score must have the same shape, got {yt.shape} and {tuple(s.shape)}")
        return _average_columns("ap", np.ascontiguousarray(yt != 0, dtype=np.uint8), s, w, average)
    yt = L.as_1d("y_true", yt)
    classes, codes = present, np.searchsorted(present, yt)
    if s.shape != (yt.shape[0], len(classes)):
        raise ValueError("`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple "
                         f"classes. Got `y_score.shape={tuple(s.shape)}`.")
    return _average_columns("ap", None, s, w, average, codes=codes.astype(np.int64))


@public
def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None, multi_class="raise",
                  labels=None):
    """Area under the ROC curve (trapezoid rule), as scikit-learn defines it: binary (with the
    partial AUC up to max_fpr, McClish-corrected), multilabel (average per label: 'micro',
    'macro', 'weighted', 'samples' or None) and multiclass (multi_class='ovr': each class
    against the rest; 'ovo': Hand & Till's mean over pairs of classes; y_score (N, C)
    probabilities).

    Example:
        >>> from cvkernels.metrics import roc_auc_score
        >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    yt = L.as_array("y_true", y_true)
    kind, present = L.target_of("y_true", yt)
    s = _score_matrix(y_score, yt.shape[0])
    w = L.sample_weights(sample_weight, yt.shape[0])
    if max_fpr is not None and not (0 < max_fpr <= 1):
        raise ValueError(f"Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    if kind == "multiclass" or (kind == "binary" and s.ndim == 2 and s.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1.0:
            raise ValueError("Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to "
                             f"`None`, received `max_fpr={max_fpr}` instead")
        if multi_class == "raise":
            raise ValueError("multi_class must be in ('ovo', 'ovr')")
        return _multiclass_roc_auc(L.as_1d("y_true", yt), present, s, labels, multi_class, average, w)
    if kind == "binary":
        yt = L.as_1d("y_true", yt)
        classes = present
        ind = np.ascontiguousarray((yt == classes[-1]) if len(classes) == 2 else np.zeros(yt.shape), dtype=np.uint8)
        s = L.as_1d("y_score", s)
        return float(_column_scores("auc", s.reshape(-1, 1), None, ind.reshape(-1, 1), w, max_fpr)[0])
    if s.shape != yt.shape:
        raise ValueError(f"y_true and y_score must have the same shape, got {yt.shape} and {tuple(s.shape)}")
    return _average_columns("auc", np.ascontiguousarray(yt != 0, dtype=np.uint8), s, w, average, max_fpr)


def _multiclass_roc_auc(yt, present, s, labels, multi_class, average, w):
    if s.ndim != 2:
        raise ValueError("`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple "
                         f"classes. Got `y_score.shape={tuple(s.shape)}`.")
    if not np.allclose(1, L.to_numpy(s.sum(axis=1))):
        raise ValueError("Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to "
                         "1.0 over classes")
    options = ("macro", "weighted", None) if multi_class == "ovo" else ("micro", "macro", "weighted", None)
    if average not in options:
        raise ValueError(f"average must be one of {options} for multiclass problems")
    if multi_class not in ("ovo", "ovr"):
        raise ValueError(f"multi_class='{multi_class}' is not supported for multiclass ROC AUC, multi_class must be "
                         "in ('ovo', 'ovr')")
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
    if labels is not None:
        labels = L.as_1d("labels", np.asarray(labels))
        classes = np.unique(labels)
        if len(classes) != len(labels):
            raise ValueError("Parameter 'labels' must be unique")
        if not np.array_equal(classes, labels):
            raise ValueError("Parameter 'labels' must be ordered")
        if len(classes) != s.shape[1]:
            raise ValueError(f"Number of given labels, {len(classes)}, not equal to the number of columns in "
                             f"'y_score', {s.shape[1]}")
        if len(np.setdiff1d(yt, classes)):
            raise ValueError("'y_true' contains labels not in parameter 'labels'")
    else:
        classes = present
        if len(classes) != s.shape[1]:
            raise ValueError("Number of classes in y_true not equal to the number of columns in 'y_score'")
    codes = np.searchsorted(classes, yt).astype(np.int64)
    if multi_class == "ovr":
        return _average_columns("auc", None, s, w, average, codes=codes)
    if w is not None:
        raise ValueError("sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' must be "
                         "None in this case.")
    # Hand & Till: each pair (a, b) of classes present, on the samples of either class, the
    # mean of "a vs b by column a" and "b vs a by column b".
    s = L.to_numpy(s)
    present = np.unique(codes)
    pairs = list(itertools.combinations(present.tolist(), 2))
    scores_ = np.empty(len(pairs))
    prevalence = np.empty(len(pairs)) if average == "weighted" else None
    for i, (a, b) in enumerate(pairs):
        rows = np.flatnonzero((codes == a) | (codes == b))
        if prevalence is not None:
            prevalence[i] = rows.shape[0] / codes.shape[0]
        sub = np.ascontiguousarray(s[np.ix_(rows, [a, b])])
        ind = np.ascontiguousarray(np.stack([codes[rows] == a, codes[rows] == b], axis=1), dtype=np.uint8)
        aucs = _column_scores("auc", sub, None, ind, None, None)
        scores_[i] = (aucs[0] + aucs[1]) / 2
    return float(np.average(scores_, weights=prevalence))
