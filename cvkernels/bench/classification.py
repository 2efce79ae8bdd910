"""Benchmark cases of the classification metrics (cvkernels.metrics' scikit-learn names) beside
scikit-learn (numpy inputs) and torchmetrics' functional versions (torch tensors of the same
values, its default argument validation on):

* roc_auc_score and average_precision_score of 1,000,000 binary float32 scores;
* the same one-vs-rest over (100,000 x 1,000) multiclass probabilities (macro average), and
  top_k_accuracy_score (k=5) on them;
* f1_score (macro) and confusion_matrix of 10,000,000 labels over 1,000 classes.
"""

from __future__ import annotations

from . import OURS, Case


def _peers():
    out = {}
    try:
        import sklearn.metrics as sk

        out["sklearn"] = sk
    except ImportError:
        pass
    try:
        import torchmetrics.functional.classification as tm

        out["torchmetrics"] = tm
    except ImportError:
        pass
    return out


def cases(quick: bool = False):
    import numpy as np
    import torch

    import cvkernels.metrics as M

    peers = _peers()
    sk, tm = peers.get("sklearn"), peers.get("torchmetrics")
    rng = np.random.default_rng(0)
    out = []

    n = 100_000 if quick else 1_000_000
    y = rng.integers(0, 2, n)
    s = (rng.random(n) + 0.2 * y).astype(np.float32)
    yt, st = torch.from_numpy(y), torch.from_numpy(s)
    for name, ours, sk_fn, tm_fn in (("roc_auc_score", M.roc_auc_score, "roc_auc_score", "binary_auroc"),
                                     ("average_precision_score", M.average_precision_score, "average_precision_score",
                                      "binary_average_precision")):
        impls = {OURS: lambda f=ours: f(y, s)}
        if sk:
            impls["scikit-learn"] = lambda f=getattr(sk, sk_fn): f(y, s)
        if tm:
            impls["torchmetrics"] = lambda f=getattr(tm, tm_fn): f(st, yt)
        out.append(Case(f"classification {name} binary {n:,}", impls, in_bytes=n * 12, note="float32 scores"))

    N, C = (10_000, 100) if quick else (100_000, 1_000)
    lab = rng.integers(0, C, N)
    prob = rng.random((N, C), dtype=np.float32) + np.eye(C, dtype=np.float32)[lab] * 0.05
    prob /= prob.sum(1, keepdims=True)
    labt, probt = torch.from_numpy(lab), torch.from_numpy(prob)
    ovr = (("roc_auc_score", lambda: M.roc_auc_score(lab, prob, multi_class="ovr"),
            lambda: sk.roc_auc_score(lab, prob, multi_class="ovr"),
            lambda: tm.multiclass_auroc(probt, labt, num_classes=C, average="macro")),
           ("average_precision_score", lambda: M.average_precision_score(lab, prob),
            lambda: sk.average_precision_score(lab, prob),
            lambda: tm.multiclass_average_precision(probt, labt, num_classes=C, average="macro")))
    impls = {OURS: lambda: M.top_k_accuracy_score(lab, prob, k=5)}
    if sk:
        impls["scikit-learn"] = lambda: sk.top_k_accuracy_score(lab, prob, k=5)
    if tm:
        impls["torchmetrics"] = lambda: tm.multiclass_accuracy(probt, labt, num_classes=C, top_k=5, average="micro")
    out.append(Case(f"classification top_k_accuracy_score k=5 {N:,}x{C:,}", impls, in_bytes=N * C * 4,
                    note="float32 probabilities"))
    for name, ours, sk_run, tm_run in ovr:
        impls = {OURS: ours}
        if sk:
            impls["scikit-learn"] = sk_run
        if tm:
            impls["torchmetrics"] = tm_run
        out.append(Case(f"classification {name} one-vs-rest {N:,}x{C:,}", impls, in_bytes=N * C * 4,
                        note="float32 probabilities, macro average"))

    n, C = (1_000_000, 100) if quick else (10_000_000, 1_000)
    t = rng.integers(0, C, n)
    p = np.where(rng.random(n) < 0.7, t, rng.integers(0, C, n))
    tt, pt = torch.from_numpy(t), torch.from_numpy(p)
    impls = {OURS: lambda: M.f1_score(t, p, average="macro")}
    if sk:
        impls["scikit-learn"] = lambda: sk.f1_score(t, p, average="macro")
    if tm:
        impls["torchmetrics"] = lambda: tm.multiclass_f1_score(pt, tt, num_classes=C, average="macro")
    out.append(Case(f"classification f1_score macro {n:,} labels {C:,} classes", impls, in_bytes=n * 16,
                    note="int64 labels"))
    impls = {OURS: lambda: M.confusion_matrix(t, p)}
    if sk:
        impls["scikit-learn"] = lambda: sk.confusion_matrix(t, p)
    if tm:
        impls["torchmetrics"] = lambda: tm.multiclass_confusion_matrix(pt, tt, num_classes=C)
    out.append(Case(f"classification confusion_matrix {n:,} labels {C:,} classes", impls, in_bytes=n * 16,
                    note="int64 labels"))
    return out
