"""cvkernels.panoptic against the definition (cvkernels.reference.panoptic) and against
panopticapi (its pq_compute on files, its single-process loop on the same pairs): identical
numbers; the rules (void, crowd, JSON areas) on hand-made images; errors."""

import contextlib
import io

import numpy as np
import pytest

from cvkernels import panoptic as P
from cvkernels.bench.panoptic_data import synthetic_panoptic, write_panoptic
from cvkernels.reference import panoptic as R

CATS = [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 1}, {"id": 3, "isthing": 0}]


def gt_seg(i, c, area, crowd=0):
    return {"id": i, "category_id": c, "iscrowd": crowd, "area": area}


def pred_seg(i, c):
    return {"id": i, "category_id": c}


def _close(a, b):
    for name in ("All", "Things", "Stuff"):
        assert a[name]["n"] == b[name]["n"]
        for m in ("pq", "sq", "rq"):
            assert a[name][m] == pytest.approx(b[name][m], rel=1e-12, nan_ok=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_the_definition(seed):
    pairs, cats = synthetic_panoptic(6, 24, 32, seed=seed, n_things=6, n_stuff=5)
    _close(P.panoptic_quality(pairs, cats), R.panoptic_quality(pairs, cats))


def test_rules_on_a_hand_made_image():
    # gt: [1 1 1 1 | 2 2 | 0 0] over two rows; 9 a crowd of category 1 on the second row's end
    gt = np.array([[1, 1, 1, 1, 2, 2, 0, 0],
                   [1, 1, 1, 1, 2, 2, 9, 9]])
    gi = [gt_seg(1, 1, 8), gt_seg(2, 3, 4), gt_seg(9, 1, 2, crowd=1)]
    # pred 5 (8 pixels) covers 7 of gt 1 and one void pixel (left out of the union):
    # IoU 7 / (8 + 8 - 7 - 1) = 7/8. pred 6 (category 3) covers gt 2 exactly; pred 7 (category 1)
    # lies on void and on its category's crowd: no fp; pred 8 (category 2) has no pixel on void
    # and the crowd is another category's: a false positive.
    pred = np.array([[5, 5, 5, 5, 6, 6, 5, 7],
                     [5, 5, 5, 8, 6, 6, 7, 8]])
    pi = [pred_seg(5, 1), pred_seg(6, 3), pred_seg(7, 1), pred_seg(8, 2)]
    stats = R.panoptic_stats([(gt, gi, pred, pi)], CATS)
    assert stats[1][:3] == [1, 0, 0] and stats[1][3] == pytest.approx(7 / 8)
    assert stats[2][:3] == [0, 1, 0]
    assert stats[3][:3] == [1, 0, 0] and stats[3][3] == 1.0
    r = P.panoptic_quality([(gt, gi, pred, pi)], CATS)
    assert r["per_class"][1]["pq"] == pytest.approx(7 / 8, rel=1e-15)
    assert r["per_class"][2] == {"pq": 0.0, "sq": 0.0, "rq": 0.0}
    assert r["Stuff"] == {"pq": 1.0, "sq": 1.0, "rq": 1.0, "n": 1}
    _close(r, R.panoptic_quality([(gt, gi, pred, pi)], CATS))
    # the gt area comes from segments_info, not from the map (panopticapi's rule)
    gi2 = [gt_seg(1, 1, 20), gi[1], gi[2]]
    r2 = P.panoptic_quality([(gt, gi2, pred, pi)], CATS)
    assert r2["per_class"][1]["pq"] == 0.0  # IoU 7 / 20 is no match


def test_map_forms_agree():
    torch = pytest.importorskip("torch")
    pairs, cats = synthetic_panoptic(4, 20, 30, seed=5, n_things=5, n_stuff=4)
    base = P.panoptic_quality(pairs, cats)
    rgb = [(P.id2rgb(g), gi, P.id2rgb(p), pi) for g, gi, p, pi in pairs]
    assert P.panoptic_quality(rgb, cats) == base
    i32 = [(g.astype(np.int32), gi, p.astype(np.uint32), pi) for g, gi, p, pi in pairs]
    assert P.panoptic_quality(i32, cats) == base
    tens = [(torch.from_numpy(g), gi, torch.from_numpy(p), pi) for g, gi, p, pi in pairs]
    assert P.panoptic_quality(tens, cats) == base
    mixed = [(P.id2rgb(g), gi, p, pi) for g, gi, p, pi in pairs]
    assert P.panoptic_quality(mixed, cats) == base
    assert P.rgb2id(P.id2rgb(pairs[0][0])).tolist() == pairs[0][0].tolist()


# panopticapi's pq_compute leaves its multiprocessing pool open
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_like_panopticapi(tmp_path):
    ev = pytest.importorskip("panopticapi.evaluation")
    pytest.importorskip("PIL")
    pairs, cats = synthetic_panoptic(12, 48, 64, seed=3)
    gj, pj = write_panoptic(str(tmp_path), pairs, cats)
    with contextlib.redirect_stdout(io.StringIO()):
        want = ev.pq_compute(gj, pj)
    got = P.pq_compute(gj, pj, verbose=False)
    _close(got, want)
    for c, v in want["per_class"].items():
        assert got["per_class"][c] == pytest.approx(v, rel=1e-12)
    # panopticapi's single-process loop on the same pairs: the same sums in the same order
    import json

    gt_json, pred_json = json.load(open(gj)), json.load(open(pj))
    categories = {c["id"]: c for c in gt_json["categories"]}
    matched = list(zip(gt_json["annotations"], pred_json["annotations"]))
    with contextlib.redirect_stdout(io.StringIO()):
        stat = ev.pq_compute_single_core(0, matched, str(tmp_path / "gt"), str(tmp_path / "pred"), categories)
    mem = P.panoptic_quality(pairs, cats)
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        assert mem[name] == stat.pq_average(categories, isthing=isthing)[0]


def test_errors_and_empty():
    gt = np.array([[1, 1, 0]])
    gi = [gt_seg(1, 1, 2)]
    with pytest.raises(P.PanopticError, match="not in its segments_info"):
        P.panoptic_quality([(gt, gi, np.array([[4, 4, 5]]), [pred_seg(4, 1)])], CATS)
    with pytest.raises(KeyError):  # panopticapi raises KeyError for the same input
        P.panoptic_quality([(gt, gi, np.array([[4, 4, 0]]), [pred_seg(4, 1), pred_seg(6, 1)])], CATS)
    with pytest.raises(ValueError, match="unknown category_id"):
        P.panoptic_quality([(gt, gi, np.array([[4, 4, 0]]), [pred_seg(4, 7)])], CATS)
    with pytest.raises(ValueError, match="twice"):
        P.panoptic_quality([(gt, gi, np.array([[4, 4, 0]]), [pred_seg(4, 1), pred_seg(4, 2)])], CATS)
    with pytest.raises(ValueError, match="differ in size"):
        P.panoptic_quality([(gt, gi, np.array([[4, 4]]), [pred_seg(4, 1)])], CATS)
    with pytest.raises(ValueError, match="id map"):
        P.panoptic_quality([(gt.astype(float), gi, gt, [])], CATS)
    empty = P.panoptic_quality([], CATS)
    assert empty["All"]["n"] == 0 and np.isnan(empty["All"]["pq"])
    void_only = P.panoptic_quality([(np.zeros((2, 3), int), [], np.zeros((2, 3), int), [])], CATS)
    assert void_only["All"]["n"] == 0
    missed = P.panoptic_quality([(gt, gi, np.zeros((1, 3), int), [])], CATS)  # nothing predicted: one fn
    assert missed["All"] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 1}


def test_the_binding_refuses_garbage():
    from cvkernels import _C

    m = np.zeros((2, 3), np.int32)
    i64 = lambda *v: np.array(v, np.int64)  # noqa: E731

    def call(gt_maps=(m,), pred_maps=(m,), gid=i64(1), gcat=i64(0), crowd=np.zeros(1, np.uint8), area=np.ones(1),
             goff=i64(0, 1), pid=i64(), pcat=i64(), poff=i64(0, 0), K=2):
        outs = [np.zeros(K, np.int64) for _ in range(3)] + [np.zeros(K)]
        return _C.panoptic_stats(list(gt_maps), list(pred_maps), gid, gcat, crowd, area, goff, pid, pcat, poff, K, *outs)

    assert call() == ""
    for bad in (dict(gt_maps=(m.astype(np.float32),)), dict(pred_maps=(m.astype(np.int64),)),
                dict(pred_maps=(np.zeros((3, 2), np.int32),)), dict(gcat=i64(2)), dict(gcat=i64(-1)),
                dict(goff=i64(0, 2)), dict(goff=i64(1, 1)), dict(poff=i64(0)), dict(area=np.ones(1, np.float32)),
                dict(gt_maps=(m, m)), dict(K=-1), dict(gt_maps=(np.zeros((2, 3, 4), np.uint8),),
                                                       pred_maps=(np.zeros((2, 3, 4), np.uint8),))):
        with pytest.raises((TypeError, ValueError)):
            call(**bad)


def _as_panoptic(m, stuffs, with_area):
    """A (H, W, 2) (category, instance) map as an id map and segments_info (category 0: void)."""
    keys = m[..., 0].astype(np.int64) * 1000 + np.where(np.isin(m[..., 0], list(stuffs)), 0, m[..., 1])
    keys[m[..., 0] == 0] = -1
    uniq, inv = np.unique(keys, return_inverse=True)
    ids = np.where(uniq >= 0, np.arange(1, len(uniq) + 1), 0)[inv.reshape(keys.shape)]
    info = []
    for k, u in enumerate(uniq):
        if u < 0:
            continue
        s = {"id": k + 1, "category_id": int(u // 1000)}
        if with_area:
            s.update(iscrowd=0, area=int((ids == k + 1).sum()))
        info.append(s)
    return ids, info


def test_torchmetrics_agrees_where_panopticapi_does():
    """torchmetrics' PanopticQuality follows panopticapi except where predictions hold void
    pixels (it also takes them out of the union and drops targets mostly covered by them) and
    for crowds (it has none): on inputs without either, the numbers agree."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torchmetrics.functional.detection")
    rng = np.random.default_rng(9)
    things, stuffs = {1, 2, 3}, {7, 8}
    B, H, W = 4, 24, 32
    target = np.zeros((B, H, W, 2), np.int64)
    target[..., 0] = np.where(np.arange(H)[:, None] < H // 2, 7, 8)
    for b in range(B):
        for k in range(4):
            y, x = rng.integers(0, H - 6), rng.integers(0, W - 6)
            target[b, y:y + int(rng.integers(3, 8)), x:x + int(rng.integers(3, 8))] = (int(rng.integers(1, 4)), k + 1)
    target[:, :, :3] = 0  # void (category 0: neither thing nor stuff)
    preds = np.roll(target, 1, axis=2)
    preds[:, :2, :, 1] += 5  # split some instances
    preds[preds[..., 0] == 0] = (7, 0)  # predictions without void
    cats = [{"id": c, "isthing": int(c in things)} for c in sorted(things | stuffs)]
    pairs = [(*_as_panoptic(target[b], stuffs, True), *_as_panoptic(preds[b], stuffs, False)) for b in range(B)]
    pairs = [(g, gi, p, pi) for g, gi, p, pi in pairs]
    ours = P.panoptic_quality(pairs, cats)["All"]
    tm = F.panoptic_quality(torch.from_numpy(preds), torch.from_numpy(target), things, stuffs, return_sq_and_rq=True)
    assert float(tm[0]) == pytest.approx(ours["pq"], rel=1e-6)
    assert float(tm[1]) == pytest.approx(ours["sq"], rel=1e-6)
    assert float(tm[2]) == pytest.approx(ours["rq"], rel=1e-6)
