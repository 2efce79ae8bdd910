"""Classification metrics straight from their definitions, for small inputs (loops and pairwise
comparisons; no sorting tricks). The tests hold cvkernels.metrics to these and to scikit-learn.

Definitions:
* confusion matrix: C[i, j] = sum of the weights of samples with y_true = labels[i] and
  y_pred = labels[j];
* per label: precision = tp / (tp + fp), recall = tp / (tp + fn),
  F-beta = (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp) (0 where undefined here);
* ROC AUC = the probability that a random positive scores above a random negative, ties
  counting one half (the Mann-Whitney statistic), with products of weights as the pairs'
  weights: this equals the trapezoid area under the ROC curve;
* average precision = sum over the distinct scores s, from the highest down, of
  (R(s) - R(previous)) * P(s), with P, R the precision and recall of "predicted positive when
  score >= s".
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, labels, sample_weight=None) -> np.ndarray:
    """(L, L) float64 weight sums of (true, predicted) label pairs among `labels`."""
    index = {lab: i for i, lab in enumerate(list(labels))}
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    out = np.zeros((len(index), len(index)))
    for t, p, wi in zip(list(y_true), list(y_pred), w):
        if t in index and p in index:
            out[index[t], index[p]] += wi
    return out


def precision_recall_fbeta(y_true, y_pred, labels, beta=1.0, sample_weight=None):
    """Per label (precision, recall, fbeta, support) as float64 arrays; 0 where a denominator
    is 0."""
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    out = []
    for lab in labels:
        tp = sum(wi for t, p, wi in zip(y_true, y_pred, w) if t == lab and p == lab)
        fp = sum(wi for t, p, wi in zip(y_true, y_pred, w) if t != lab and p == lab)
        fn = sum(wi for t, p, wi in zip(y_true, y_pred, w) if t == lab and p != lab)
        b2 = beta * beta
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f = (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp + fn + fp else 0.0
        out.append((prec, rec, f, tp + fn))
    return tuple(np.array(col, dtype=np.float64) for col in zip(*out))


def roc_auc(y_true01, y_score, sample_weight=None) -> float:
    """The Mann-Whitney probability P(score of a positive > score of a negative) + 1/2 P(=)."""
    y = np.asarray(y_true01).astype(bool)
    s = np.asarray(y_score, dtype=np.float64)
    w = np.ones(len(s)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    num = den = 0.0
    for i in np.flatnonzero(y):
        for j in np.flatnonzero(~y):
            pair = w[i] * w[j]
            den += pair
            num += pair * (1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0)
    return num / den if den else float("nan")


def average_precision(y_true01, y_score, sample_weight=None) -> float:
    """sum_k (R_k - R_{k-1}) P_k over the distinct scores, highest first."""
    y = np.asarray(y_true01).astype(bool)
    s = np.asarray(y_score, dtype=np.float64)
    w = np.ones(len(s)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total_pos = float(w[y].sum())
    if total_pos == 0:
        return 0.0
    ap, r_prev = 0.0, 0.0
    for thr in sorted(set(s.tolist()), reverse=True):
        chosen = s >= thr
        tp = float(w[chosen & y].sum())
        fp = float(w[chosen & ~y].sum())
        r = tp / total_pos
        ap += (r - r_prev) * (tp / (tp + fp) if tp + fp else 0.0)
        r_prev = r
    return ap


def roc_points(y_true01, y_score, sample_weight=None):
    """(thresholds descending, tps, fps): the cumulative weights of positives and negatives
    scoring >= each distinct score."""
    y = np.asarray(y_true01).astype(bool)
    s = np.asarray(y_score, dtype=np.float64)
    w = np.ones(len(s)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    keep = w != 0
    thr = np.array(sorted(set(s[keep].tolist()), reverse=True))
    tps = np.array([w[(s >= t) & y & keep].sum() for t in thr])
    fps = np.array([w[(s >= t) & ~y & keep].sum() for t in thr])
    return thr, tps, fps
