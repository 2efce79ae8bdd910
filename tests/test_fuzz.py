"""Property-based fuzzing of every public op family (hypothesis): arbitrary shapes (empty and
zero-size dimensions included), dtypes, NaN / inf / huge values, non-contiguous, misaligned
and read-only arrays, out-of-range arguments. The property: the op returns the reference's
result (where the input is in the reference's domain) or raises ValueError / TypeError;
it never crashes, hangs or returns garbage.

CI runs FUZZ_EXAMPLES examples per family; `pytest -m slow tests/test_fuzz.py` runs many more.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cvkernels
from cvkernels import mask as cm
from cvkernels import reference as ref

FUZZ_EXAMPLES = int(os.environ.get("CVK_FUZZ_EXAMPLES", "40"))
ACCEPTED = (ValueError, TypeError)
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, np.complex64, object]
VALUES = [0.0, 1.0, -1.0, 0.5, 3.0, 100.0, -7.5, np.nan, np.inf, -np.inf, 1e38, -1e300, 1e-300]


def _settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz(**strategies):
    """The property as a test at CI's size, and a `slow` twin with 25x the examples."""
    def make(body):
        fast = _settings(FUZZ_EXAMPLES)(given(**strategies)(body))
        slow = pytest.mark.slow(_settings(25 * FUZZ_EXAMPLES)(given(**strategies)(body)))
        return fast, slow
    return make


@st.composite
def arrays(draw, shape=None, dtype=None, max_dims=4, max_side=6):
    """An array with hostile properties: any dtype, special values, strided, misaligned or
    read-only memory."""
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=0, max_size=max_dims)))
    dtype = dtype or draw(st.sampled_from(DTYPES))
    n = int(np.prod(shape)) if shape else 1
    vals = np.array(draw(st.lists(st.sampled_from(VALUES), min_size=n, max_size=n)) or [0.0])[:n]
    kind = draw(st.sampled_from(["plain", "strided", "misaligned", "readonly", "fortran"]))
    with np.errstate(all="ignore"):
        if dtype is object:
            a = np.array(list(vals) + [None], dtype=object)[:n].reshape(shape)
        else:
            a = vals.astype(np.float64).astype(dtype).reshape(shape) if np.dtype(dtype).kind != "c" else \
                vals.astype(dtype).reshape(shape)
    if kind == "strided" and a.ndim:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    elif kind == "misaligned" and a.dtype != object and a.itemsize > 1:
        raw = np.zeros(a.nbytes + 1, np.uint8)
        b = np.frombuffer(raw.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
        b[...] = a if a.size else b
        a = b
    elif kind == "readonly":
        a = a.copy()
        a.flags.writeable = False
    elif kind == "fortran":
        a = np.asfortranarray(a)
    return a


def boxes(n):
    """Valid float64 (n, 4) boxes, x1 <= x2 and y1 <= y2."""
    return st.lists(st.tuples(*[st.floats(-50, 50, allow_nan=False)] * 4), min_size=n, max_size=n).map(
        lambda rows: np.array([[min(a, c), min(b, d), max(a, c), max(b, d)] for a, b, c, d in rows],
                              np.float64).reshape(n, 4))


def _finite(*xs):
    return all(np.asarray(x).dtype != object and np.asarray(x).dtype.kind in "fiub" and
               np.isfinite(np.asarray(x, dtype=np.float64)).all() for x in xs)


# --- boxes ---------------------------------------------------------------------------------

def _box_iou_property(a, b):
    for op, want in ((cvkernels.box_iou, ref.box_iou), (cvkernels.generalized_box_iou, ref.generalized_box_iou),
                     (cvkernels.distance_box_iou, ref.distance_box_iou), (cvkernels.complete_box_iou, ref.complete_box_iou)):
        try:
            got = op(a, b)
        except ACCEPTED:
            continue
        assert got.shape == a.shape[:-1] + b.shape[-2:-1]
        if _finite(a, b) and a.ndim == b.ndim == 2 and a.dtype.kind == b.dtype.kind == "f" and a.dtype != np.float16:
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            if (a64[:, 2:] >= a64[:, :2]).all() and (b64[:, 2:] >= b64[:, :2]).all() and np.abs(a64).max(initial=0) < 1e15:
                np.testing.assert_allclose(got, want(a64, b64), rtol=1e-4, atol=1e-5)
    for op in (cvkernels.box_area, lambda x: cvkernels.box_convert(x, "xywh", "cxcywh")):
        try:
            op(a)
        except ACCEPTED:
            pass


@fuzz(a=arrays(max_dims=3), b=arrays(max_dims=3))
def _box_ops_any_input(a, b):
    _box_iou_property(a, b)


@fuzz(n=st.integers(0, 12), m=st.integers(0, 12), data=st.data())
def _box_ops_valid_input(n, m, data):
    _box_iou_property(data.draw(boxes(n)), data.draw(boxes(m)))


@fuzz(a=arrays(max_dims=3), b=arrays(max_dims=3), red=st.sampled_from(["none", "mean", "sum", "bad"]))
def _box_losses(a, b, red):
    for op in (cvkernels.generalized_box_iou_loss, cvkernels.distance_box_iou_loss, cvkernels.complete_box_iou_loss):
        try:
            op(a, b, reduction=red)
        except ACCEPTED:
            pass


# --- nms -----------------------------------------------------------------------------------

@fuzz(b=arrays(max_dims=3), s=arrays(max_dims=2), i=arrays(max_dims=2),
       thr=st.sampled_from([0.5, 0.0, 1.0, -1.0, 2.0, np.nan, np.inf, "x"]))
def _nms_any_input(b, s, i, thr):
    for call in (lambda: cvkernels.nms(b, s, thr), lambda: cvkernels.batched_nms(b, s, i, thr),
                 lambda: cvkernels.soft_nms(b, s, thr), lambda: cvkernels.batched_soft_nms(b, s, i, thr)):
        try:
            call()
        except ACCEPTED:
            pass


@fuzz(n=st.integers(0, 40), thr=st.floats(0, 1), data=st.data())
def _nms_valid_input(n, thr, data):
    b = data.draw(boxes(n))
    s = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)), np.float64)
    idx = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.int64)
    np.testing.assert_array_equal(cvkernels.nms(b, s, thr), ref.nms(b, s, thr))
    np.testing.assert_array_equal(cvkernels.batched_nms(b, s, idx, thr), ref.batched_nms(b, s, idx, thr))
    keep, sc = cvkernels.soft_nms(b, s, thr, method="linear")
    want_keep, want_sc = ref.soft_nms(b, s, thr, method="linear")
    np.testing.assert_array_equal(keep, want_keep)
    np.testing.assert_allclose(sc, want_sc, rtol=1e-12)


@fuzz(b=arrays(max_dims=4), s=arrays(max_dims=3), per=st.integers(-2, 5), total=st.integers(-2, 5))
def _multiclass_nms(b, s, per, total):
    try:
        n, ob, os_, oc = cvkernels.multiclass_nms(b, s, 0.05, 0.5, per, total)
    except ACCEPTED:
        return
    assert ob.shape == (s.shape[0], total, 4) and (n <= total).all()


# --- roi -----------------------------------------------------------------------------------

@fuzz(x=arrays(max_dims=4, max_side=5), r=arrays(max_dims=2, max_side=6),
       size=st.sampled_from([0, 1, 2, (2, 3), -1, (1,), "a"]), scale=st.sampled_from([1.0, 0.5, np.nan, 0.0]),
       sr=st.sampled_from([-1, 0, 1, 2, 2**40]), aligned=st.booleans())
def _roi_any_input(x, r, size, scale, sr, aligned):
    for call in (lambda: cvkernels.roi_align(x, r, size, scale, sr, aligned), lambda: cvkernels.roi_pool(x, r, size, scale)):
        try:
            out = call()
        except ACCEPTED:
            continue
        assert np.isfinite(out).all() or not _finite(x)


@fuzz(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(0, 6), w=st.integers(0, 6), k=st.integers(0, 4),
       data=st.data())
def _roi_valid_input(n, c, h, w, k, data):
    x = np.array(data.draw(st.lists(st.floats(-5, 5), min_size=n * c * h * w, max_size=n * c * h * w)),
                 np.float64).reshape(n, c, h, w)
    bx = data.draw(boxes(k)) / 5 + 3
    rois = np.concatenate([np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)),
                                    np.float64).reshape(k, 1), bx], 1)
    got = cvkernels.roi_align(x, rois, 2, sampling_ratio=2, aligned=True)
    if h and w:
        np.testing.assert_allclose(got, ref.roi_align(x, rois, 2, sampling_ratio=2, aligned=True), atol=1e-12)
    else:
        assert not got.any()
    got = cvkernels.roi_pool(x, rois, 2)
    if h and w:
        np.testing.assert_allclose(got, ref.roi_pool(x, rois, 2), atol=1e-12)


# --- masks ---------------------------------------------------------------------------------

@fuzz(p=arrays(max_dims=4, max_side=5), t=arrays(max_dims=4, max_side=5),
       nc=st.sampled_from([None, 1, 2, 3, 0, -1, True]), fmt=st.sampled_from(["auto", "binary", "index", "one-hot", "mixed"]),
       ig=st.sampled_from([None, 0, 1, 255]))
def _mask_scores(p, t, nc, fmt, ig):
    for op in (cvkernels.dice_score, cvkernels.iou_score):
        try:
            op(p, t, num_classes=nc, input_format=fmt, ignore_index=ig)
        except ACCEPTED:
            pass
    try:
        cvkernels.dice_loss(p, t, ignore_index=ig)
    except ACCEPTED:
        pass
    try:
        cvkernels.pairwise_mask_iou(p, t)
    except ACCEPTED:
        pass


@fuzz(n=st.integers(1, 3), c=st.integers(1, 4), hw=st.integers(0, 5), ig=st.sampled_from([None, 0, 1]),
       act=st.sampled_from(["softmax", "sigmoid"]), data=st.data())
def _dice_loss_valid_input(n, c, hw, ig, act, data):
    x = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=n * c * hw * hw, max_size=n * c * hw * hw)),
                 np.float64).reshape(n, c, hw, hw)
    lab = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n * hw * hw, max_size=n * hw * hw)),
                   np.int64).reshape(n, hw, hw)
    got = cvkernels.dice_loss(x, lab, activation=act, ignore_index=ig)
    assert got == pytest.approx(ref.masks.soft_dice_loss(x, lab, act, ignore_index=ig), rel=1e-9, abs=1e-12)


# --- conv ----------------------------------------------------------------------------------

@fuzz(x=arrays(max_dims=4, max_side=5), w=arrays(max_dims=4, max_side=3), stride=st.sampled_from([1, 2, 0, (1, 2)]),
       pad=st.sampled_from([0, 1, "same", "valid", -1, "x"]), dil=st.sampled_from([1, 2, 0]),
       groups=st.sampled_from([1, 2, 0]))
def _conv_any_input(x, w, stride, pad, dil, groups):
    try:
        out = cvkernels.dilated_conv2d(x, w, None, stride, pad, dil, groups)
    except ACCEPTED:
        return
    if _finite(x, w) and x.dtype.kind == "f" and w.dtype.kind == "f" and min(x.dtype.itemsize, w.dtype.itemsize) >= 4:
        with np.errstate(all="ignore"):
            want = ref.dilated_conv2d(x, w, None, stride, pad, dil, groups)
        if np.isfinite(want).all():
            np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4 * (np.abs(want).max(initial=0) + 1))


# --- RLE -----------------------------------------------------------------------------------

@fuzz(m=arrays(max_dims=3, max_side=6), poly=st.lists(st.sampled_from(VALUES), min_size=0, max_size=10),
       h=st.sampled_from([0, 1, 7, 2**31, -1]), w=st.sampled_from([0, 3, 9]))
def _rle_any_input(m, poly, h, w):
    try:
        rles = cm.encode(m)
        decoded = cm.decode(rles)
        # uint8 masks are read as pycocotools reads them (a run ends where the byte changes, so
        # only 0/1 bytes round-trip); every other dtype is nonzero-is-foreground
        if isinstance(rles, dict) and (m.dtype != np.uint8 or m.max(initial=0) <= 1):
            np.testing.assert_array_equal(decoded, (np.asarray(m) != 0).astype(np.uint8))
    except ACCEPTED:
        pass
    for call in (lambda: cm.frPyObjects([poly], h, w), lambda: cm.frPyObjects(np.array([poly[:4]]), h, w),
                 lambda: cm.area({"size": [h, w], "counts": b"0"})):
        try:
            call()
        except ACCEPTED:
            pass


# Result lists for loadRes: values of every JSON-ish type (and numpy scalars, bools, huge ints,
# tuples, subclasses) in the four fields. The C++ reader takes only plain dicts of plain values;
# whatever it takes must equal what the Python reader makes of the same list, and loadRes must
# either load the list or raise ValueError / TypeError.
_ANY = st.one_of(st.integers(-3, 3), st.just(2**70), st.booleans(), st.sampled_from(VALUES), st.none(),
                 st.just("7"), st.just(np.float32(0.5)), st.just(np.int64(2)))
_BOX = st.one_of(st.lists(st.sampled_from([0.0, 1.0, 2.5, -1.0, np.nan, 7]), min_size=0, max_size=5),
                 st.tuples(st.just(0.0), st.just(0.0), st.just(1.0), st.just(1.0)), _ANY)


@st.composite
def _result_dicts(draw):
    out = []
    for _ in range(draw(st.integers(0, 4))):
        d = {}
        for key, value in (("image_id", st.one_of(st.integers(1, 3), _ANY)),
                           ("category_id", st.one_of(st.integers(1, 2), _ANY)), ("bbox", _BOX),
                           ("score", st.one_of(st.floats(0, 1), _ANY))):
            if draw(st.integers(0, 9)) > 0:  # sometimes absent
                d[key] = draw(value)
        out.append(type("Sub", (dict,), {})(d) if draw(st.integers(0, 19)) == 0 else d)
    return out


@fuzz(results=_result_dicts())
def _load_res_of_any_list(results):
    from cvkernels import _C
    from cvkernels.coco import COCO
    from cvkernels.coco.dataset import _box_result_columns, _id_column

    gt = COCO({"images": [{"id": i, "height": 10, "width": 10} for i in (1, 2, 3)], "annotations": [],
               "categories": [{"id": 1}, {"id": 2}]})
    fast = _C.box_results_from_list(results)
    if fast is not None and results:
        slow = _box_result_columns(results, _id_column(results, "image_id", "result"))
        for got, key in zip(fast, ("img", "cat", "box", "score")):
            np.testing.assert_array_equal(got, slow[key])
        b, s = slow["box"], slow["score"]
        with np.errstate(invalid="ignore"):
            sane = bool(np.isfinite(b).all() and (b[:, 2:] >= 0).all() and not np.isnan(s).any())
        assert fast[4] is sane  # the C++ reader's "every value is sane" flag
    try:
        gt.loadRes(results)
    except ACCEPTED:
        pass


# --- classification and panoptic metrics -------------------------------------------------------

@fuzz(t=arrays(max_dims=2), p=arrays(max_dims=2), s=arrays(max_dims=2), w=st.one_of(st.none(), arrays(max_dims=1)))
def _classification_any_input(t, p, s, w):
    import warnings

    from cvkernels import metrics as M

    calls = [lambda: M.accuracy_score(t, p, sample_weight=w), lambda: M.f1_score(t, p, average="macro"),
             lambda: M.precision_recall_fscore_support(t, p, sample_weight=w), lambda: M.confusion_matrix(t, p),
             lambda: M.balanced_accuracy_score(t, p), lambda: M.roc_auc_score(t, s, sample_weight=w),
             lambda: M.average_precision_score(t, s), lambda: M.roc_curve(t, s),
             lambda: M.roc_auc_score(t, s, multi_class="ovr"), lambda: M.top_k_accuracy_score(t, s, k=1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in calls:
            try:
                out = call()
            except (*ACCEPTED, ZeroDivisionError):
                continue
            if isinstance(out, float) and not np.isnan(out):
                assert np.isfinite(out)


@fuzz(g=arrays(max_dims=3, max_side=4), pm=arrays(max_dims=3, max_side=4),
      ids=st.lists(st.integers(-2, 3), max_size=4), cats=st.lists(st.integers(0, 3), max_size=4))
def _panoptic_any_input(g, pm, ids, cats):
    from cvkernels import panoptic as P

    gi = [{"id": i, "category_id": c, "iscrowd": i % 2, "area": 1.0} for i, c in zip(ids, cats)]
    pi = [{"id": i, "category_id": c} for i, c in zip(ids, cats)]
    try:
        r = P.panoptic_quality([(g, gi, pm, pi)], [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}])
    except ACCEPTED:
        return
    assert set(r) == {"All", "Things", "Stuff", "per_class"}


test_classification_any_input, test_classification_any_input_slow = _classification_any_input
test_panoptic_any_input, test_panoptic_any_input_slow = _panoptic_any_input
test_box_ops_any_input, test_box_ops_any_input_slow = _box_ops_any_input
test_box_ops_valid_input, test_box_ops_valid_input_slow = _box_ops_valid_input
test_box_losses, test_box_losses_slow = _box_losses
test_nms_any_input, test_nms_any_input_slow = _nms_any_input
test_nms_valid_input, test_nms_valid_input_slow = _nms_valid_input
test_multiclass_nms, test_multiclass_nms_slow = _multiclass_nms
test_roi_any_input, test_roi_any_input_slow = _roi_any_input
test_roi_valid_input, test_roi_valid_input_slow = _roi_valid_input
test_mask_scores, test_mask_scores_slow = _mask_scores
test_dice_loss_valid_input, test_dice_loss_valid_input_slow = _dice_loss_valid_input
test_conv_any_input, test_conv_any_input_slow = _conv_any_input
test_rle_any_input, test_rle_any_input_slow = _rle_any_input
test_load_res_of_any_list, test_load_res_of_any_list_slow = _load_res_of_any_list
