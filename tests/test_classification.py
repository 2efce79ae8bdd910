"""cvkernels.metrics' classification metrics against the definitions (cvkernels.reference
.classification, always) and against scikit-learn (which defines them; skipped when absent):
values to float64 rounding, the same warnings, the same errors."""

import warnings

import numpy as np
import pytest

import cvkernels.metrics as M
from cvkernels.reference import classification as R
from conftest import requires_cuda

RTOL = 1e-12


def _same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if a is None:
        assert b is None
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(b.astype(float), a.astype(float), rtol=RTOL, atol=1e-14)


def _with_warnings(fn, *args, **kwargs):
    """(result or the exception's type, the categories and messages of the warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(*args, **kwargs)
        except (ValueError, TypeError, NotImplementedError, ZeroDivisionError) as e:
            out = type(e)
    return out, [(w.category.__name__, str(w.message)) for w in caught]


def check_like_sklearn(name, *args, **kwargs):
    """Same value (or same kind of error) and the same warnings as sklearn.metrics.<name>."""
    sk = pytest.importorskip("sklearn.metrics")
    want, want_w = _with_warnings(getattr(sk, name), *args, **kwargs)
    got, got_w = _with_warnings(getattr(M, name), *args, **kwargs)
    if isinstance(want, type):
        assert isinstance(got, type) and issubclass(got, (ValueError, TypeError, NotImplementedError, ZeroDivisionError)), got
        return
    _same(want, got)
    # sklearn's own deprecation / conversion notices aside, the same warnings in kind and text
    want_w = [w for w in want_w if w[0] in ("UndefinedMetricWarning", "UserWarning")]
    assert {w[1] for w in got_w} == {w[1] for w in want_w}, (got_w, want_w)


RNG = np.random.default_rng(7)


def labels_case(C, n=200, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, C, n)
    p = np.where(rng.random(n) < 0.5, t, rng.integers(0, C, n))
    return t, p, rng.random(n)


# --- label metrics -----------------------------------------------------------------------------------


@pytest.mark.parametrize("C", [2, 3, 6])
@pytest.mark.parametrize("weighted", [False, True])
def test_label_metrics_like_sklearn(C, weighted):
    t, p, w = labels_case(C, seed=C)
    sw = w if weighted else None
    check_like_sklearn("accuracy_score", t, p, sample_weight=sw)
    check_like_sklearn("accuracy_score", t, p, sample_weight=sw, normalize=False)
    check_like_sklearn("balanced_accuracy_score", t, p, sample_weight=sw)
    check_like_sklearn("balanced_accuracy_score", t, p, sample_weight=sw, adjusted=True)
    check_like_sklearn("confusion_matrix", t, p, sample_weight=sw)
    check_like_sklearn("confusion_matrix", t, p, sample_weight=sw, labels=[1, 0, 9])
    for norm in ("true", "pred", "all"):
        check_like_sklearn("confusion_matrix", t, p, sample_weight=sw, normalize=norm)
    check_like_sklearn("multilabel_confusion_matrix", t, p, sample_weight=sw)
    for avg in (None, "binary", "micro", "macro", "weighted", "samples"):
        for zd in ("warn", 0, 1.0, np.nan):
            check_like_sklearn("precision_recall_fscore_support", t, p, sample_weight=sw, average=avg,
                               zero_division=zd)
        labels = None if avg == "binary" else [0, 1, 7]
        check_like_sklearn("f1_score", t, p, sample_weight=sw, average=avg, labels=labels)
        check_like_sklearn("fbeta_score", t, p, beta=0.5, sample_weight=sw, average=avg)
        check_like_sklearn("precision_score", t, p, sample_weight=sw, average=avg, labels=labels)
        check_like_sklearn("recall_score", t, p, sample_weight=sw, average=avg)


def test_label_metrics_against_the_definitions():
    t, p, w = labels_case(4, n=120, seed=3)
    labels = [0, 1, 2, 3]
    for sw in (None, w):
        np.testing.assert_allclose(M.confusion_matrix(t, p, sample_weight=sw, labels=labels),
                                   R.confusion_matrix(t, p, labels, sw), rtol=1e-12)
        prec, rec, f, sup = M.precision_recall_fscore_support(t, p, sample_weight=sw, labels=labels, beta=2.0)
        want = R.precision_recall_fbeta(t, p, labels, beta=2.0, sample_weight=sw)
        for a, b in zip((prec, rec, f, sup), want):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        acc = M.accuracy_score(t, p, sample_weight=sw)
        ww = np.ones(len(t)) if sw is None else sw
        assert acc == pytest.approx(float(ww[t == p].sum() / ww.sum()), rel=1e-12)


def test_label_kinds_like_sklearn():
    t, p, _ = labels_case(3, n=60, seed=1)
    names = np.array(["cat", "dog", "bird"])
    check_like_sklearn("f1_score", names[t], names[p], average="macro")
    check_like_sklearn("confusion_matrix", names[t], names[p], labels=["dog", "cat"])
    check_like_sklearn("f1_score", np.where(t == 0, "a", "b"), np.where(p == 0, "a", "b"), pos_label="a")
    check_like_sklearn("precision_score", t == 0, p == 0)
    check_like_sklearn("recall_score", t * 1.0, p * 1.0, average="micro")  # integral floats
    check_like_sklearn("accuracy_score", t - 5, p - 5)  # negative labels
    check_like_sklearn("f1_score", t * 10**12, p * 10**12, average="macro")  # labels over a huge range
    check_like_sklearn("confusion_matrix", t * 10**12, p * 10**12)
    check_like_sklearn("confusion_matrix", t * 1500, p * 1500, labels=[3000, 0, 1500, 7])  # sparse in a wide range
    check_like_sklearn("balanced_accuracy_score", t, np.where(p == 2, 5, p))  # a class only predicted
    check_like_sklearn("confusion_matrix", np.zeros(5, int), np.zeros(5, int))  # one label: a warning


@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_like_sklearn(weighted):
    rng = np.random.default_rng(5)
    yt = rng.integers(0, 2, (150, 5))
    yp = rng.integers(0, 2, (150, 5))
    yt[:, 3] = 0  # a label never true
    yp[:4] = 0  # samples predicting nothing
    sw = rng.random(150) if weighted else None
    check_like_sklearn("accuracy_score", yt, yp, sample_weight=sw)
    check_like_sklearn("multilabel_confusion_matrix", yt, yp, sample_weight=sw)
    check_like_sklearn("multilabel_confusion_matrix", yt, yp, sample_weight=sw, samplewise=True)
    check_like_sklearn("multilabel_confusion_matrix", yt, yp, sample_weight=sw, labels=[4, 0])
    for avg in (None, "micro", "macro", "weighted", "samples"):
        check_like_sklearn("precision_recall_fscore_support", yt, yp, sample_weight=sw, average=avg)
        check_like_sklearn("f1_score", yt, yp, sample_weight=sw, average=avg, labels=[0, 2])
    check_like_sklearn("f1_score", yt, yp, average="macro", labels=[0, 9])  # label out of range: an error


def test_top_k_like_sklearn():
    rng = np.random.default_rng(2)
    t = rng.integers(0, 5, 200)
    s = np.round(rng.random((200, 5)), 1)  # many ties
    for k in (1, 2, 4, 5):
        check_like_sklearn("top_k_accuracy_score", t, s, k=k)
    check_like_sklearn("top_k_accuracy_score", t, s, k=2, sample_weight=rng.random(200), normalize=False)
    check_like_sklearn("top_k_accuracy_score", t % 2, s[:, 0], k=1)
    check_like_sklearn("top_k_accuracy_score", t[t < 3], s[t < 3], k=2, labels=[0, 1, 2, 3, 4])
    check_like_sklearn("top_k_accuracy_score", t, s.astype(np.float32), k=3)
    check_like_sklearn("top_k_accuracy_score", t, s, k=0)  # an error


def test_label_errors():
    with pytest.raises(ValueError, match="empty"):
        M.accuracy_score([], [])
    with pytest.raises(ValueError, match="same number of samples"):
        M.f1_score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="continuous"):
        M.accuracy_score([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="mix of"):
        M.accuracy_score([[0, 1], [1, 1]], [0, 1])
    with pytest.raises(ValueError, match="average='binary'"):
        M.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="sample_weight"):
        M.accuracy_score([0, 1], [0, 1], sample_weight=[1.0])
    with pytest.raises(ValueError, match="zero_division"):
        M.f1_score([0, 1], [0, 1], zero_division=2)


# --- ranking metrics ---------------------------------------------------------------------------------


def scores_case(n, ties, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.random(n) + 0.3 * y
    if ties:
        s = np.round(s, 1)
    return y, s.astype(dtype), rng.random(n)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_ranking_against_the_definitions(ties, dtype):
    y, s, w = scores_case(150, ties, seed=4, dtype=dtype)
    w[::5] = 0  # zero weights: no threshold of their own
    for sw in (None, w):
        assert M.roc_auc_score(y, s, sample_weight=sw) == pytest.approx(R.roc_auc(y, s, sw), rel=1e-12)
        assert M.average_precision_score(y, s, sample_weight=sw) == pytest.approx(
            R.average_precision(y, s, sw), rel=1e-12)
        fpr, tpr, th = M.roc_curve(y, s, sample_weight=sw, drop_intermediate=False)
        thr, tps, fps = R.roc_points(y, s, sw)
        np.testing.assert_array_equal(th[1:], thr)
        np.testing.assert_allclose(tpr[1:], tps / tps[-1], rtol=1e-12)
        np.testing.assert_allclose(fpr[1:], fps / fps[-1], rtol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_ranking_like_sklearn(ties, weighted):
    y, s, w = scores_case(400, ties, seed=8)
    sw = w if weighted else None
    for mf in (None, 0.05, 0.3, 1.0):
        check_like_sklearn("roc_auc_score", y, s, sample_weight=sw, max_fpr=mf)
    check_like_sklearn("average_precision_score", y, s, sample_weight=sw)
    for drop in (False, True):
        check_like_sklearn("roc_curve", y, s, sample_weight=sw, drop_intermediate=drop)
        check_like_sklearn("precision_recall_curve", y, s, sample_weight=sw, drop_intermediate=drop)
    check_like_sklearn("roc_curve", 2 * y - 1, s)  # {-1, 1}
    check_like_sklearn("roc_curve", y + 1, s, pos_label=2)
    check_like_sklearn("roc_curve", y + 1, s)  # {1, 2} without pos_label: an error
    check_like_sklearn("average_precision_score", np.where(y, "p", "n"), s, pos_label="p")


def test_ranking_edge_cases_like_sklearn():
    check_like_sklearn("roc_auc_score", [1, 1, 1], [0.2, 0.5, 0.1])  # one class: NaN and a warning
    check_like_sklearn("roc_curve", [0, 0, 0], [0.2, 0.5, 0.1])
    check_like_sklearn("precision_recall_curve", [0, 0, 0], [0.2, 0.5, 0.1])
    check_like_sklearn("average_precision_score", [0, 0, 0], [0.2, 0.5, 0.1])
    check_like_sklearn("roc_auc_score", [0, 1], [0.0, -0.0])  # -0.0 and 0.0 are one threshold
    check_like_sklearn("roc_curve", [0, 1, 1, 0], [1e300, -1e300, 5e-324, 0.0])
    check_like_sklearn("roc_auc_score", [0, 1, 1, 0], [3, 1, 2, 2])  # integer scores
    check_like_sklearn("roc_auc_score", [0, 1], [[0.2, 0.8], [0.5, 0.5]])  # 2-D scores for binary: an error


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_raise(bad):
    s = np.array([0.1, bad, 0.3], dtype=np.float32)
    for fn in (M.roc_auc_score, M.average_precision_score, M.roc_curve):
        with pytest.raises(ValueError, match="y_score"):
            fn([0, 1, 1], s)


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_ranking_like_sklearn(weighted):
    rng = np.random.default_rng(11)
    n, C = 300, 5
    t = rng.integers(0, C, n)
    s = rng.random((n, C)) + np.eye(C)[t] * 0.5
    s = np.round(s, 2)
    s /= s.sum(1, keepdims=True)
    sw = rng.random(n) if weighted else None
    for avg in (None, "micro", "macro", "weighted"):
        check_like_sklearn("roc_auc_score", t, s, multi_class="ovr", average=avg, sample_weight=sw)
        check_like_sklearn("average_precision_score", t, s, average=avg, sample_weight=sw)
        if not weighted:
            check_like_sklearn("roc_auc_score", t, s, multi_class="ovo", average=avg)
    check_like_sklearn("roc_auc_score", t, s)  # multi_class='raise'
    check_like_sklearn("roc_auc_score", t, s, multi_class="ovr", max_fpr=0.5)
    check_like_sklearn("roc_auc_score", t[t < 4], s[t < 4], multi_class="ovr", labels=[0, 1, 2, 3, 4])
    check_like_sklearn("roc_auc_score", t, s * 2, multi_class="ovr")  # not probabilities


@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_ranking_like_sklearn(weighted):
    rng = np.random.default_rng(12)
    y = rng.integers(0, 2, (200, 4))
    y[:, 2] = 1  # one class only in a column: NaN (and a warning) for it
    s = np.round(rng.random((200, 4)) + 0.3 * y, 2)
    sw = rng.random(200) if weighted else None
    for avg in (None, "micro", "macro", "weighted", "samples"):
        check_like_sklearn("roc_auc_score", y, s, average=avg, sample_weight=sw)
        check_like_sklearn("roc_auc_score", y[:, [0, 1, 3]], s[:, [0, 1, 3]], average=avg, sample_weight=sw,
                           max_fpr=0.4)
        check_like_sklearn("average_precision_score", y, s, average=avg, sample_weight=sw)


def test_many_columns_against_the_definitions():
    # 40 columns: three blocks of 16 in the kernel, the last one partial
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, (90, 40))
    s = np.round(rng.random((90, 40)), 2).astype(np.float32)
    auc = M.roc_auc_score(y, s, average=None)
    ap = M.average_precision_score(y, s, average=None)
    for c in range(40):
        assert auc[c] == pytest.approx(R.roc_auc(y[:, c], s[:, c]), rel=1e-12)
        assert ap[c] == pytest.approx(R.average_precision(y[:, c], s[:, c]), rel=1e-12)


def test_torch_inputs_match_numpy():
    torch = pytest.importorskip("torch")
    y, s, w = scores_case(300, True, seed=3, dtype=np.float32)
    assert M.roc_auc_score(torch.from_numpy(y), torch.from_numpy(s)) == M.roc_auc_score(y, s)
    assert M.average_precision_score(torch.from_numpy(y), torch.from_numpy(s), sample_weight=torch.from_numpy(w)) \
        == M.average_precision_score(y, s, sample_weight=w)
    t, p, _ = labels_case(4, seed=9)
    assert M.f1_score(torch.from_numpy(t), torch.from_numpy(p), average="macro") == M.f1_score(t, p, average="macro")
    np.testing.assert_array_equal(M.confusion_matrix(torch.from_numpy(t), torch.from_numpy(p)),
                                  M.confusion_matrix(t, p))
    half = torch.from_numpy(s).to(torch.bfloat16)  # computed in float32
    assert M.roc_auc_score(y, half) == M.roc_auc_score(y, half.float().numpy())


def _label_metric_calls(t, p, multilabel=False):
    """(name, args, kwargs) of the label metrics over one (y_true, y_pred) pair."""
    calls = [("accuracy_score", {}), ("multilabel_confusion_matrix", {}),
             ("multilabel_confusion_matrix", {"labels": [2, 0]})]
    for avg in (None, "micro", "macro", "weighted"):
        calls += [("precision_recall_fscore_support", {"average": avg, "zero_division": 0}),
                  ("f1_score", {"average": avg, "labels": [0, 2]})]
    if multilabel:
        calls += [("multilabel_confusion_matrix", {"samplewise": True}), ("f1_score", {"average": "samples"})]
    else:
        calls += [("confusion_matrix", {}), ("confusion_matrix", {"labels": [2, 0, 9], "normalize": "true"}),
                  ("balanced_accuracy_score", {}), ("accuracy_score", {"normalize": False})]
    return calls


def _gpu_path_cases(torch):
    t, p, _ = labels_case(5, n=400, seed=11)
    rng = np.random.default_rng(12)
    yield t, p, False
    yield (t - 3).astype(np.int32), (p - 3).astype(np.int8), False  # negative labels, mixed integer dtypes
    yield t.reshape(-1, 1), p, False  # a column vector
    yield t * 1000, p * 1000, False  # a wide range: counted in place, rows mapped for labels=
    yield rng.integers(0, 2, (150, 6)), rng.integers(0, 2, (150, 6)), True
    yield rng.integers(0, 2, (150, 6)).astype(bool), rng.integers(0, 2, (150, 6)).astype(bool), True


def _metric_results(t, p, multilabel):
    """Per call: its value (or exception type), then its warnings."""
    out = []
    for name, kwargs in _label_metric_calls(t, p, multilabel):
        out += _with_warnings(getattr(M, name), t, p, **kwargs)
    return out


def _assert_same_results(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, (type, list)):  # an exception's type, or the warnings
            assert x == y
        elif isinstance(x, tuple):
            for u, v in zip(x, y):
                np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
        else:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
            assert np.asarray(x).dtype == np.asarray(y).dtype


def test_labels_on_the_gpu_path_match_numpy(monkeypatch):
    """The path of labels held in GPU tensors (counted where they are, by _C_cuda's kernels),
    taken here by CPU tensors with _C's: the same values, bit for bit, as numpy labels."""
    torch = pytest.importorskip("torch")
    from cvkernels._launch import arrays
    from cvkernels._launch import classification as L
    monkeypatch.setattr(L, "TENSOR_PATH_ON_CPU", True)
    for t, p, multilabel in _gpu_path_cases(torch):
        tt, pt = torch.from_numpy(np.ascontiguousarray(t)), torch.from_numpy(np.ascontiguousarray(p))
        assert L.Targets(tt, pt)._xp is not arrays.NUMPY  # the tensor path was taken
        _assert_same_results(_metric_results(t, p, multilabel), _metric_results(tt, pt, multilabel))
    # pairs the tensor path leaves to the host path: the same answers or errors either way
    t, p, w = labels_case(3, n=50, seed=2)
    for a, b, kw in [(t, p, {"sample_weight": w}), (t * 1.0, p * 1.0, {}), (t * 10**12, p * 10**12, {}),
                     (t, p[:-1], {}), (np.ones((5, 3), int), np.ones(5, int), {})]:
        ta, tb = torch.from_numpy(np.ascontiguousarray(a)), torch.from_numpy(np.ascontiguousarray(b))
        want, _ = _with_warnings(M.f1_score, a, b, average="macro", **kw)
        got, _ = _with_warnings(M.f1_score, ta, tb, average="macro", **kw)
        assert want == got


def _ranking_cases():
    """(y_true, y_score, kwargs) of roc_auc_score / average_precision_score calls."""
    y, s, _ = scores_case(300, True, seed=13, dtype=np.float32)
    yield "roc_auc_score", y, s, {}
    yield "roc_auc_score", y, s.astype(np.float64), {"max_fpr": 0.3}
    yield "average_precision_score", y, s, {}
    yield "roc_auc_score", np.zeros(20, int), np.linspace(0, 1, 20), {}  # one class: NaN and a warning
    rng = np.random.default_rng(14)
    t = rng.integers(0, 4, 240)
    p = rng.random((240, 4)) + np.eye(4)[t]
    p = np.round(p / p.sum(1, keepdims=True), 2)
    p[:, -1] = 1 - p[:, :-1].sum(1)
    for avg in ("macro", "weighted", None):
        yield "roc_auc_score", t, p, {"multi_class": "ovr", "average": avg}
        yield "average_precision_score", t, p, {"average": avg}
    yield "roc_auc_score", t, p, {"multi_class": "ovo"}
    yield "roc_auc_score", t, p, {"multi_class": "ovr", "average": "micro"}
    ind = rng.integers(0, 2, (120, 5))
    sc = np.round(rng.random((120, 5)), 2)
    for avg in ("micro", "macro", "weighted", "samples", None):
        yield "roc_auc_score", ind, sc, {"average": avg}
        yield "average_precision_score", ind, sc, {"average": avg}
    yield "roc_auc_score", y, np.where(np.arange(300) == 7, np.nan, s), {}  # non-finite: an error


def test_scores_on_the_gpu_path_match_numpy(monkeypatch):
    """roc_auc_score / average_precision_score with the scores in a GPU tensor (left there,
    ranked by _C_cuda), taken here by CPU tensors: the same values and warnings as numpy."""
    torch = pytest.importorskip("torch")
    from cvkernels._launch import classification as L
    monkeypatch.setattr(L, "TENSOR_PATH_ON_CPU", True)
    assert isinstance(L.device_scores("y_score", torch.zeros(3, dtype=torch.int32)), torch.Tensor)
    for name, y, s, kwargs in _ranking_cases():
        want = _with_warnings(getattr(M, name), y, s, **kwargs)
        got = _with_warnings(getattr(M, name), y, torch.from_numpy(s), **kwargs)
        _assert_same_results(list(want), list(got))


@requires_cuda
def test_labels_on_a_gpu_match_numpy():
    torch = pytest.importorskip("torch")
    from cvkernels._launch import arrays
    from cvkernels._launch import classification as L
    for t, p, multilabel in _gpu_path_cases(torch):
        tt = torch.from_numpy(np.ascontiguousarray(t)).cuda()
        pt = torch.from_numpy(np.ascontiguousarray(p)).cuda()
        assert L.Targets(tt, pt)._xp is not arrays.NUMPY
        _assert_same_results(_metric_results(t, p, multilabel), _metric_results(tt, pt, multilabel))
    # many classes: the confusion matrix and the class totals in global memory
    rng = np.random.default_rng(4)
    t, p = rng.integers(0, 5000, 200_000), rng.integers(0, 5000, 200_000)
    np.testing.assert_array_equal(M.confusion_matrix(torch.from_numpy(t).cuda(), torch.from_numpy(p).cuda()),
                                  M.confusion_matrix(t, p))
    assert M.f1_score(torch.from_numpy(t).cuda(), torch.from_numpy(p).cuda(), average="macro") == \
        M.f1_score(t, p, average="macro")


@requires_cuda
def test_scores_on_a_gpu_match_numpy():
    torch = pytest.importorskip("torch")
    for name, y, s, kwargs in _ranking_cases():
        want = _with_warnings(getattr(M, name), y, s, **kwargs)
        got = _with_warnings(getattr(M, name), y, torch.from_numpy(s).cuda(), **kwargs)
        _assert_same_results(list(want), list(got))
    # a large binary problem (one sort) and a wide one-vs-rest problem (a segmented sort)
    rng = np.random.default_rng(15)
    y, s = rng.integers(0, 2, 1_000_000), rng.random(1_000_000).astype(np.float32)
    assert M.roc_auc_score(y, torch.from_numpy(s).cuda()) == M.roc_auc_score(y, s)
    t = rng.integers(0, 100, 20_000)
    p = rng.random((20_000, 100))
    p /= p.sum(1, keepdims=True)
    assert M.roc_auc_score(t, torch.from_numpy(p).cuda(), multi_class="ovr") == \
        M.roc_auc_score(t, p, multi_class="ovr")


def test_torchmetrics_agrees_where_the_definitions_do():
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torchmetrics.functional.classification")
    y, s, _ = scores_case(500, True, seed=21, dtype=np.float32)
    yt, st = torch.from_numpy(y), torch.from_numpy(s)
    assert float(F.binary_auroc(st, yt)) == pytest.approx(M.roc_auc_score(y, s), rel=1e-6)
    assert float(F.binary_average_precision(st, yt)) == pytest.approx(M.average_precision_score(y, s), rel=1e-6)
    t, p, _ = labels_case(4, seed=5)
    tt, pt = torch.from_numpy(t), torch.from_numpy(p)
    assert float(F.multiclass_f1_score(pt, tt, num_classes=4, average="macro")) == pytest.approx(
        M.f1_score(t, p, average="macro"), rel=1e-6)
    # A class absent from both y_true and y_pred: torchmetrics' macro mean leaves it out, as
    # scikit-learn's does (its labels are those present), whatever num_classes says.
    assert float(F.multiclass_f1_score(pt, tt, num_classes=6, average="macro")) == pytest.approx(
        M.f1_score(t, p, average="macro"), rel=1e-6)
    n, C = 300, 5
    rng = np.random.default_rng(5)
    tc = rng.integers(0, C, n)
    sc = np.round(rng.random((n, C)), 2).astype(np.float32)
    sc /= sc.sum(1, keepdims=True)
    tct, sct = torch.from_numpy(tc), torch.from_numpy(sc)
    for avg in ("macro", "weighted"):
        assert float(F.multiclass_auroc(sct, tct, num_classes=C, average=avg)) == pytest.approx(
            M.roc_auc_score(tc, sc, multi_class="ovr", average=avg), rel=1e-6)
    assert float(F.multiclass_average_precision(sct, tct, num_classes=C)) == pytest.approx(
        M.average_precision_score(tc, sc), rel=1e-6)
    # Where they differ: torchmetrics' multiclass accuracy averages per class by default
    # ("macro"), which is balanced_accuracy_score, not accuracy_score; and torchmetrics
    # computes in float32, so agreement is to ~1e-7, not to the last float64 digit.
    pred = torch.from_numpy(sc.argmax(1))
    tm_acc = float(F.multiclass_accuracy(pred, tct, num_classes=C))
    assert tm_acc == pytest.approx(M.balanced_accuracy_score(tc, sc.argmax(1)), rel=1e-6)
    assert tm_acc != pytest.approx(M.accuracy_score(tc, sc.argmax(1)), rel=1e-6)
