"""COCO evaluation: identical to pycocotools (the oracle, when installed) on synthetic sets with
crowds, images without ground truth or detections, categories without ground truth, tied
scores, custom area ranges, other maxDets, useCats=0, single images; evalImgs and ious;
the documented bug fixes; bad input; match_detections / average_precision; the CLI."""

import contextlib
import copy
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import cvkernels
from cvkernels.bench.coco_data import synthetic_coco
from cvkernels.coco import COCO, COCOeval

try:
    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval as PyCOCOeval
except ImportError:
    PyCOCO = None
requires_pycocotools = pytest.mark.skipif(PyCOCO is None, reason="pycocotools is not installed")

# CI size; CVK_COCO_IMAGES=5000 runs the val2017-scale parity check.
N_IMAGES = int(os.environ.get("CVK_COCO_IMAGES", "300"))


def quiet(fn, *args, **kw):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kw)


def run_ours(gt, dets, setup=None):
    g = COCO(copy.deepcopy(gt))
    d = g.loadRes(copy.deepcopy(dets))
    e = COCOeval(g, d, "bbox")
    if setup:
        setup(e.params)
    e.evaluate()
    e.accumulate()
    quiet(e.summarize)
    return e


def run_theirs(gt, dets, setup=None):
    def go():
        g = PyCOCO()
        g.dataset = copy.deepcopy(gt)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(dets))
        e = PyCOCOeval(g, d, "bbox")
        if setup:
            setup(e.params)
        e.evaluate()
        e.accumulate()
        e.summarize()
        return e

    return quiet(go)


def assert_same(ours, theirs, stats=True):
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], theirs.eval[key], err_msg=key)
    if stats:
        np.testing.assert_array_equal(ours.stats, theirs.stats)


@requires_pycocotools
def test_accumulate_arrays_are_reused_only_when_let_go():
    # accumulate's output arrays come from a pool: an array someone still holds (or a view of
    # it) is never handed out again, and a reused one is written whole.
    sets = [synthetic_coco(20, 5, seed=s) for s in (10, 11, 12)]
    first = run_ours(*sets[0])
    held = {k: first.eval[k] for k in ("precision", "scores")}
    view = first.eval["precision"][0]
    saved = {k: v.copy() for k, v in held.items()}
    del first
    second = run_ours(*sets[1])
    for k, v in held.items():
        np.testing.assert_array_equal(v, saved[k])
        assert not np.shares_memory(v, second.eval[k])
    assert_same(second, run_theirs(*sets[1]))
    del held, view, saved, second  # now the pool may hand both sets of arrays out again
    for gt, dets in (sets[2], sets[0]):
        assert_same(run_ours(gt, dets), run_theirs(gt, dets))


@requires_pycocotools
@pytest.mark.parametrize("seed,decimals", [(0, None), (1, 1), (2, 2)])
def test_identical_to_pycocotools(seed, decimals):
    gt, dets = synthetic_coco(N_IMAGES, 12, seed=seed, score_decimals=decimals)
    assert_same(run_ours(gt, dets), run_theirs(gt, dets))


@requires_pycocotools
def test_annotations_out_of_image_order_match_pycocotools():
    # results and ground truth in shuffled order (the evaluator buckets them by image itself),
    # with tied scores: ties still go by the order the results came in
    gt, dets = synthetic_coco(150, 7, seed=9, score_decimals=1)
    rng = np.random.default_rng(3)
    dets = [dets[i] for i in rng.permutation(len(dets))]
    gt = dict(gt, annotations=[gt["annotations"][i] for i in rng.permutation(len(gt["annotations"]))])
    assert_same(run_ours(gt, dets), run_theirs(gt, dets))


SETUPS = {
    "custom_area_ranges": lambda p: (setattr(p, "areaRng", [[0, 1e10], [0, 500], [500, 5000], [5000, 1e10], [100, 200]]),
                                     setattr(p, "areaRngLbl", ["all", "small", "medium", "large", "tiny"])),
    "maxdets_1_5_100": lambda p: setattr(p, "maxDets", [1, 5, 100]),
    "use_cats_0": lambda p: setattr(p, "useCats", 0),
    "single_image": lambda p: setattr(p, "imgIds", [p.imgIds[3]]),
    "some_categories": lambda p: setattr(p, "catIds", p.catIds[2:6]),
    "iou_thresholds": lambda p: setattr(p, "iouThrs", np.array([0.3, 0.5, 0.85])),
    "recall_thresholds": lambda p: setattr(p, "recThrs", np.array([0.0, 0.33, 0.5, 0.9, 0.25, 1.0])),
}


@requires_pycocotools
@pytest.mark.parametrize("name", list(SETUPS))
def test_identical_with_params(name):
    gt, dets = synthetic_coco(120, 6, seed=5, score_decimals=2)
    assert_same(run_ours(gt, dets, SETUPS[name]), run_theirs(gt, dets, SETUPS[name]))


@requires_pycocotools
@pytest.mark.parametrize("order", ["increasing", "shuffled"])
def test_accumulate_over_an_image_subset(order):
    # accumulate(p) with p.imgIds a subset of the evaluated images (in increasing order the
    # records are found by walking each category's groups; in another order, image by image)
    # equals pycocotools evaluating those images only (scores without ties, so that the order
    # of the images does not matter; pycocotools' own accumulate(p) takes positions in p.imgIds
    # for positions in the evaluated list, a quirk not copied)
    gt, dets = synthetic_coco(90, 6, seed=13)
    ours = run_ours(gt, dets)
    ids = [i for i in ours.params.imgIds if i % 3 != 1]
    theirs = run_theirs(gt, dets, lambda p: setattr(p, "imgIds", list(ids)))
    if order == "shuffled":
        ids = [int(i) for i in np.random.default_rng(0).permutation(ids)]
    p = copy.deepcopy(ours.params)
    p.imgIds = ids
    ours.accumulate(p)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], theirs.eval[key], err_msg=key)


@requires_pycocotools
def test_max_dets_without_100_fixes_summarize():
    gt, dets = synthetic_coco(60, 5, seed=3)
    setup = lambda p: setattr(p, "maxDets", [1, 10, 300])  # noqa: E731
    ours, theirs = run_ours(gt, dets, setup), run_theirs(gt, dets, setup)
    assert_same(ours, theirs, stats=False)
    assert theirs.stats[0] == -1  # pycocotools' hard-coded maxDets=100
    p = ours.eval["precision"][:, :, :, 0, 2]
    assert ours.stats[0] == pytest.approx(np.mean(p[p > -1]))
    np.testing.assert_array_equal(ours.stats[1:], theirs.stats[1:])


@requires_pycocotools
def test_annotation_id_zero_is_not_lost():
    gt, dets = synthetic_coco(30, 3, seed=7, first_id=0)  # image 0 and annotation 0
    ours = run_ours(gt, dets)
    shifted = copy.deepcopy(gt)
    for a in shifted["annotations"]:
        a["id"] += 1000
    assert_same(ours, run_theirs(shifted, dets))  # the right answer: ids do not matter


@requires_pycocotools
def test_eval_imgs_and_ious_match_pycocotools():
    gt, dets = synthetic_coco(25, 4, seed=11, score_decimals=1)
    ours, theirs = run_ours(gt, dets), run_theirs(gt, dets)
    assert len(ours.evalImgs) == len(theirs.evalImgs)
    for a, b in zip(ours.evalImgs, theirs.evalImgs):
        assert (a is None) == (b is None)
        if a is None:
            continue
        for key in ("image_id", "category_id", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert list(np.ravel(a[key])) == list(np.ravel(b[key])), key
        for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            np.testing.assert_array_equal(np.asarray(a[key], dtype=float), np.asarray(b[key], dtype=float), err_msg=key)
    for key, v in theirs.ious.items():
        np.testing.assert_array_equal(np.asarray(ours.ious[key]), np.asarray(v))


@requires_pycocotools
@pytest.mark.parametrize("gt_per_image", [30, 90])
def test_crowded_images_match_pycocotools(gt_per_image):
    """Images with tens of ground truth of one category: the bit-mask matcher (up to 64 in an
    image's category) and the general one (more), with crowds, duplicate boxes (tied IoUs)
    and tied scores; stats, arrays and evalImgs as pycocotools'."""
    gt, dets = synthetic_coco(8, 1, gt_per_image=gt_per_image, dets_per_image=150, seed=gt_per_image,
                              crowd_frac=0.1, score_decimals=1, empty_cats=0)
    for a in gt["annotations"][::7]:  # exact duplicates of some ground truth
        gt["annotations"].append({**a, "id": a["id"] + 100000})
    for d in dets[::5]:  # and of some detections
        dets.append(dict(d))
    setup = lambda p: setattr(p, "maxDets", [1, 10, 300])  # noqa: E731
    ours, theirs = run_ours(gt, dets, setup), run_theirs(gt, dets, setup)
    assert_same(ours, theirs, stats=False)
    sizes = {}
    for a in gt["annotations"]:
        sizes[a["image_id"], a["category_id"]] = sizes.get((a["image_id"], a["category_id"]), 0) + 1
    assert max(sizes.values()) > 64 if gt_per_image == 90 else max(sizes.values()) <= 64
    for a, b in zip(ours.evalImgs, theirs.evalImgs):
        assert (a is None) == (b is None)
        if a is not None:
            for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
                np.testing.assert_array_equal(np.asarray(a[key], dtype=float), np.asarray(b[key], dtype=float))


@requires_pycocotools
def test_numpy_results():
    gt, dets = synthetic_coco(20, 3, seed=4)
    arr = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dets])
    g = COCO(copy.deepcopy(gt))
    e = COCOeval(g, g.loadRes(arr), "bbox")
    e.evaluate()
    e.accumulate()
    quiet(e.summarize)
    np.testing.assert_allclose(e.stats, run_theirs(gt, dets).stats, atol=1e-12)
    # the same results as columns (numpy, and torch when installed): identical stats, and
    # pycocotools' result dicts when the dataset is asked for
    cols = {"image_id": arr[:, 0].astype(np.int64), "category_id": arr[:, 6].astype(np.int64), "bbox": arr[:, 1:5],
            "score": arr[:, 5]}
    variants = [cols]
    try:
        import torch

        variants.append({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in cols.items()})
    except ImportError:
        pass
    for c in variants:
        r = g.loadRes(c)
        e2 = COCOeval(g, r, "bbox")
        e2.evaluate()
        e2.accumulate()
        quiet(e2.summarize)
        np.testing.assert_array_equal(e2.stats, e.stats)
        assert r.dataset["annotations"][3]["area"] == dets[3]["bbox"][2] * dets[3]["bbox"][3]
    with pytest.raises(ValueError, match="missing \\['score'\\]"):
        g.loadRes({k: v for k, v in cols.items() if k != "score"})
    with pytest.raises(ValueError, match="'bbox' must be finite"):
        g.loadRes(dict(cols, bbox=np.full((len(arr), 4), np.nan)))


def test_per_class_and_pr_curve(tmp_path):
    gt, dets = synthetic_coco(40, 4, seed=2)
    e = run_ours(gt, dets)
    ap = e.ap_per_class()
    assert set(ap) == set(e.params.catIds)
    assert ap[4] == -1  # the category without ground truth
    valid = [v for v in ap.values() if v >= 0]
    p = e.eval["precision"][:, :, :, 0, -1]
    assert np.mean(valid) == pytest.approx(np.mean(p[p > -1]), rel=1e-9)
    assert "class1" in e.per_class_table()
    r, prec = e.pr_curve(catId=1, iouThr=0.5)
    assert r.shape == prec.shape == (101,) and (np.diff(prec) <= 1e-12).all()
    pytest.importorskip("matplotlib")
    out = tmp_path / "pr.png"
    e.plot_pr(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_coco_index_api():
    gt, dets = synthetic_coco(10, 3, seed=1)
    c = COCO(gt)
    assert sorted(c.getImgIds()) == [im["id"] for im in gt["images"]]
    assert c.getCatIds(catNms=["class2"]) == [2]
    ids = c.getAnnIds(imgIds=[1], catIds=[1, 2])
    assert all(a["image_id"] == 1 and a["category_id"] in (1, 2) for a in c.loadAnns(ids))
    assert c.loadImgs(1)[0]["id"] == 1 and c.loadCats([2])[0]["name"] == "class2"
    assert set(c.getImgIds(catIds=[1])) == {a["image_id"] for a in gt["annotations"] if a["category_id"] == 1}


def test_bad_input(tmp_path):
    gt, dets = synthetic_coco(5, 2, seed=0)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        COCO(str(bad_json))
    g = COCO(copy.deepcopy(gt))
    with pytest.raises(ValueError, match="images not in the ground truth"):
        g.loadRes([{"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
    with pytest.raises(ValueError, match="has no 'image_id'"):
        g.loadRes([{"category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
    with pytest.raises(ValueError, match=r"result 0: 'bbox' must be \[x, y, w, h\] numbers"):
        g.loadRes([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}])
    with pytest.raises(ValueError, match="result 1 needs a 'bbox'"):
        g.loadRes([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
                   {"image_id": 1, "category_id": 1, "score": 0.5}])
    with pytest.raises(ValueError, match="column results need 'image_id', 'category_id', 'score' and 'bbox' or masks"):
        g.loadRes({"image_id": 1})  # a dict is read as columns
    with pytest.raises(ValueError, match="list of objects"):
        g.loadRes("not a path".encode())

    def evaluate(gt_, dets_):
        gg = COCO(copy.deepcopy(gt_))
        e = COCOeval(gg, gg.loadRes(copy.deepcopy(dets_)), "bbox")
        e.evaluate()

    nan = copy.deepcopy(dets)
    nan[3]["score"] = float("nan")
    with pytest.raises(ValueError, match="result 3 has a NaN 'score'"):
        evaluate(gt, nan)
    no_score = copy.deepcopy(dets)
    del no_score[2]["score"]
    with pytest.raises(ValueError, match="result 2 has no 'score'"):
        evaluate(gt, no_score)
    neg = copy.deepcopy(gt)
    neg["annotations"][1]["bbox"][2] = -3
    with pytest.raises(ValueError, match="annotation 1: 'bbox' has a negative width"):
        evaluate(neg, dets)
    no_area = copy.deepcopy(gt)
    del no_area["annotations"][0]["area"]
    with pytest.raises(ValueError, match="annotation 0 has no 'area'"):
        evaluate(no_area, dets)
    with pytest.raises(ValueError, match="has no 'segmentation'"):
        e = COCOeval(g, g.loadRes(copy.deepcopy(dets)))  # pycocotools' default iouType: segm
        e.evaluate()
    with pytest.raises(ValueError, match="annotation 0: 'keypoints' must be a list"):
        e = COCOeval(g, g.loadRes(copy.deepcopy(dets)), "keypoints")  # bbox data: no keypoints
        e.evaluate()
    with pytest.raises(RuntimeError, match="evaluate"):
        COCOeval(g, g, "bbox").accumulate()
    ev = cvkernels._C.CocoEval([0.5], [0.0, 1.0], np.array([[0.0, 1e10]]), [10], 1, 1, *(
        np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones((1, 4)), np.ones(1), np.zeros(1, np.uint8)), *(
        np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones((1, 4)), np.ones(1), np.ones(1)))
    with pytest.raises(ValueError, match="evaluate"):  # the compiled evaluator alone: an error, not a crash
        ev.accumulate([0], [0], [10], [0])
    ev.evaluate()
    assert ev.accumulate([0], [0], [10], [0])[1].tolist() == [[[[1.0]]]]


def test_empty_results():
    gt, _ = synthetic_coco(5, 2, seed=0)
    g = COCO(copy.deepcopy(gt))
    e = COCOeval(g, g.loadRes([]), "bbox")
    e.evaluate()
    e.accumulate()
    stats = quiet(e.summarize)
    assert stats[0] == 0.0 and (e.eval["precision"][e.eval["precision"] > -1] == 0).all()


# --- low-level ops -------------------------------------------------------------------------

def test_match_detections_rules():
    ious = np.array([[0.9, 0.6], [0.8, 0.0], [0.55, 0.7]])
    m, ig = cvkernels.match_detections(ious, [0.5, 0.75])
    assert m.tolist() == [[0, -1, 1], [0, -1, -1]]  # t=0.5, t=0.75
    # VOC: detection 1's best ground truth (0) is taken: a duplicate, not re-matched
    mv, igv = cvkernels.match_detections(ious, 0.5, rule="voc")
    assert mv.tolist() == [[0, -1, 1]]
    # a crowd absorbs many detections and makes them ignored (COCO)
    m, ig = cvkernels.match_detections(np.array([[0.9], [0.8]]), 0.5, gt_iscrowd=[True])
    assert m.tolist() == [[0, 0]] and ig.tolist() == [[True, True]]
    # VOC: a "difficult" ground truth makes its detection ignored
    m, ig = cvkernels.match_detections(np.array([[0.9]]), 0.5, gt_ignore=[True], rule="voc")
    assert ig.tolist() == [[True]]
    # from boxes: xyxy
    m, _ = cvkernels.match_detections(dt_boxes=[[0, 0, 10, 10]], gt_boxes=[[1, 1, 10, 10]], iou_thresholds=0.8)
    assert m.tolist() == [[0]]
    with pytest.raises(ValueError, match="rule"):
        cvkernels.match_detections(ious, 0.5, rule="x")


@requires_pycocotools
def test_match_detections_agrees_with_pycocotools_eval_imgs():
    gt, dets = synthetic_coco(15, 3, seed=9)
    theirs = run_theirs(gt, dets)
    p = theirs.params
    for e in theirs.evalImgs[: len(p.imgIds) * 1]:  # area "all" of the first category
        if e is None or not len(e["dtIds"]) or not len(e["gtIds"]):
            continue
        gts = theirs.cocoGt.loadAnns(e["gtIds"])
        dts = theirs.cocoDt.loadAnns(e["dtIds"])
        xyxy = lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]]  # noqa: E731
        m, ig = cvkernels.match_detections(
            dt_boxes=[xyxy(d["bbox"]) for d in dts], gt_boxes=[xyxy(g["bbox"]) for g in gts],
            iou_thresholds=p.iouThrs, gt_iscrowd=[g["iscrowd"] for g in gts])
        gt_ids = np.array(e["gtIds"])
        want = np.where(e["dtMatches"] > 0, e["dtMatches"], -1)
        got = np.where(m >= 0, gt_ids[np.maximum(m, 0)], -1)
        np.testing.assert_array_equal(got, want)


def test_average_precision_interpolations():
    ap, p, r = cvkernels.average_precision([0.9, 0.8, 0.7], [True, False, True], 2)
    assert ap == pytest.approx((51 * 1.0 + 50 * (2 / 3)) / 101, rel=1e-12)
    assert r.tolist() == [0.5, 0.5, 1.0]
    ap11, _, _ = cvkernels.average_precision([0.9, 0.8, 0.7], [True, False, True], 2, "voc11")
    assert ap11 == pytest.approx((6 * 1.0 + 5 * (2 / 3)) / 11)
    apa, _, _ = cvkernels.average_precision([0.9, 0.8, 0.7], [True, False, True], 2, "area")
    assert apa == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))
    assert cvkernels.average_precision([0.5], [True], 0)[0] == -1
    with pytest.raises(ValueError, match="interpolation"):
        cvkernels.average_precision([0.5], [True], 1, "x")
    with pytest.raises(ValueError, match="NaN"):
        cvkernels.average_precision([float("nan")], [True], 1)


@requires_pycocotools
def test_average_precision_equals_cocoeval_per_class():
    gt, dets = synthetic_coco(30, 1, seed=6, empty_cats=0)
    theirs = run_theirs(gt, dets)
    # one class, area all, maxDets 100, IoU 0.5: rebuild tp flags from evalImgs
    E = [e for e in theirs.evalImgs[: len(theirs.params.imgIds)] if e is not None]
    scores = np.concatenate([e["dtScores"] for e in E])
    tp = np.concatenate([e["dtMatches"][0] > 0 for e in E])
    ignore = np.concatenate([e["dtIgnore"][0] for e in E]).astype(bool)
    npos = int(sum((np.asarray(e["gtIgnore"]) == 0).sum() for e in E))
    ap, _, _ = cvkernels.average_precision(scores, tp, npos, ignore=ignore)
    assert ap == pytest.approx(np.mean(theirs.eval["precision"][0, :, 0, 0, 2]), rel=1e-12)


def test_cli_eval(tmp_path):
    gt, dets = synthetic_coco(20, 3, seed=3)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(gt))
    d.write_text(json.dumps(dets))
    code = "import sys; from cvkernels.cli import main; sys.exit(main(sys.argv[1:]))"
    res = subprocess.run([sys.executable, "-c", code, "eval", str(g), str(d), "--per-class"], capture_output=True,
                         text=True, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in res.stdout
    assert "class1" in res.stdout
    bad = subprocess.run([sys.executable, "-c", code, "eval", str(g), str(tmp_path / "missing.json")],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert bad.returncode == 2 and "cvkernels eval:" in bad.stderr


# --- the fast JSON reader ------------------------------------------------------------------

def _files(tmp_path, gt, dets):
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(gt, indent=1))  # whitespace and newlines the reader must skip
    d.write_text(json.dumps(dets))
    return str(g), str(d)


def test_json_files_read_natively_give_the_same_numbers(tmp_path):
    gt, dets = synthetic_coco(60, 6, seed=8, score_decimals=2)
    for a in gt["annotations"][::7]:
        a["segmentation"] = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]  # skipped by the reader
        a["iscrowd"] = bool(a["iscrowd"])
    gt["info"]["note"] = 'braces } ] and "quotes" in a string'
    g_path, d_path = _files(tmp_path, gt, dets)
    g = COCO(g_path)
    assert g._native is not None and g._dataset is None  # nothing loaded into Python yet
    e = COCOeval(g, g.loadRes(d_path), "bbox")
    e.evaluate()
    e.accumulate()
    quiet(e.summarize)
    ref = run_ours(gt, dets)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(e.eval[key], ref.eval[key])
    # the dataset still reads as pycocotools' when asked for
    assert g.dataset["images"] == gt["images"]
    res = g.loadRes(d_path)
    ann = res.dataset["annotations"][0]
    assert ann["id"] == 1 and ann["iscrowd"] == 0 and ann["area"] == ann["bbox"][2] * ann["bbox"][3]
    assert res.loadAnns([1])[0]["score"] == dets[0]["score"]


def test_json_reader_falls_back_for_unusual_files(tmp_path):
    gt, dets = synthetic_coco(10, 3, seed=1)
    str_ids = copy.deepcopy(gt)  # string image ids: Python's json path handles them
    for im in str_ids["images"]:
        im["id"] = f"img{im['id']}"
    for a in str_ids["annotations"]:
        a["image_id"] = f"img{a['image_id']}"
    str_dets = [dict(d, image_id=f"img{d['image_id']}") for d in dets]
    g_path, d_path = _files(tmp_path, str_ids, str_dets)
    g = COCO(g_path)
    assert g._native is None
    e = COCOeval(g, g.loadRes(d_path), "bbox")
    e.evaluate()
    e.accumulate()
    np.testing.assert_array_equal(e.eval["precision"], run_ours(gt, dets).eval["precision"])
    bad = copy.deepcopy(dets)
    del bad[4]["score"]
    g_path, d_path = _files(tmp_path, gt, bad)
    g = COCO(g_path)
    with pytest.raises(ValueError, match="result 4 has no 'score'"):
        e = COCOeval(g, g.loadRes(d_path), "bbox")
        e.evaluate()
    unknown = copy.deepcopy(dets) + [{"image_id": 12345, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.1}]
    g_path, d_path = _files(tmp_path, gt, unknown)
    with pytest.raises(ValueError, match="images not in the ground truth"):
        COCO(g_path).loadRes(d_path)


# --- segmentation ----------------------------------------------------------------------------

def run_segm(C, E, gt, dets, setup=None, iou_type="segm"):
    """gt assigned to C().dataset, createIndex(), loadRes(dets), then a full evaluation."""
    def go():
        g = C()
        g.dataset = copy.deepcopy(gt)
        g.createIndex()
        e = E(g, g.loadRes(copy.deepcopy(dets)), iou_type)
        if setup:
            setup(e.params)
        e.evaluate()
        e.accumulate()
        e.summarize()
        return e

    return quiet(go)


@requires_pycocotools
@pytest.mark.parametrize("seed", [0, 1])
def test_segm_identical_to_pycocotools(seed):
    from cvkernels.bench.coco_data import with_segmentations

    gt, dets = with_segmentations(*synthetic_coco(max(40, N_IMAGES // 5), 6, seed=seed, crowd_frac=0.05), seed=seed)
    ours, theirs = run_segm(COCO, COCOeval, gt, dets), run_segm(PyCOCO, PyCOCOeval, gt, dets)
    assert_same(ours, theirs)
    key = next(k for k, v in theirs.ious.items() if len(v))
    np.testing.assert_array_equal(np.asarray(ours.ious[key]), np.asarray(theirs.ious[key]))
    setup = lambda p: setattr(p, "useCats", 0)  # noqa: E731
    assert_same(run_segm(COCO, COCOeval, gt, dets, setup), run_segm(PyCOCO, PyCOCOeval, gt, dets, setup))


def test_ann_to_mask_and_rle():
    from cvkernels.bench.coco_data import with_segmentations

    gt, _ = with_segmentations(*synthetic_coco(5, 2, seed=0))
    c = COCO(gt)
    ann = next(a for a in gt["annotations"] if not a["iscrowd"])
    m = c.annToMask(ann)
    assert m.shape == (480, 640) and m.dtype == np.uint8 and m.sum() > 0
    assert c.annToRLE(ann)["size"] == [480, 640]


@requires_pycocotools
def test_load_res_of_a_list_keeps_pycocotools_bookkeeping_lazily():
    gt, dets = synthetic_coco(30, 4, seed=9)
    g = COCO(copy.deepcopy(gt))
    mine = copy.deepcopy(dets)
    r = g.loadRes(mine)
    assert "area" not in mine[0] and r._dataset is None  # columns only, the dicts untouched
    e = COCOeval(g, r, "bbox")
    e.evaluate()
    e.accumulate()
    quiet(e.summarize)
    np.testing.assert_array_equal(e.stats, run_theirs(gt, dets).stats)
    ann = r.dataset["annotations"][0]  # first use: pycocotools' loadRes bookkeeping
    assert ann is mine[0] and ann["id"] == 1 and ann["iscrowd"] == 0
    assert ann["area"] == ann["bbox"][2] * ann["bbox"][3] and len(ann["segmentation"][0]) == 8
    for a in r.dataset["annotations"]:  # and edits to the dicts count from then on
        a["area"] = 1.0
    e2 = COCOeval(g, r, "bbox")
    e2.evaluate()
    e2.accumulate()
    quiet(e2.summarize)
    assert e2.stats[3] != e.stats[3]  # every detection is small now


# Result lists read by the C++ list readers (plain dicts) and by the Python reader (anything
# else): the same numbers, the same errors.
def _odd(kind, dets):
    """A copy of the results that the fast readers must hand to the Python reader."""
    dets = copy.deepcopy(dets)
    d = dets[len(dets) // 2]
    if kind == "numpy_score":
        d["score"] = np.float32(d["score"])
    elif kind == "bool_category":  # pycocotools takes True as category 1
        d["category_id"] = True
    elif kind == "tuple_box" and "bbox" in d:
        d["bbox"] = tuple(d["bbox"])
    elif kind == "dict_subclass":
        dets[len(dets) // 2] = type("Ann", (dict,), {})(d)
    elif kind == "bytes_counts" and "segmentation" in d:
        d["segmentation"]["counts"] = d["segmentation"]["counts"].encode()
    elif kind == "json_keys":  # keys equal to the readers' but other objects (not interned), extra keys
        dets = [{"extra": 1, **{"".join(list(k)): v for k, v in x.items()}} for x in dets]
        key = next(k for k in dets[0] if k == "image_id")
        assert key is not sys.intern("image_id")  # the identity is the point
    return dets


@requires_pycocotools
@pytest.mark.parametrize("kind", ["plain", "numpy_score", "bool_category", "tuple_box", "dict_subclass", "json_keys"])
def test_box_result_lists_fast_and_python_readers_agree(kind):
    gt, dets = synthetic_coco(40, 5, seed=4, score_decimals=2)
    odd = _odd(kind, dets)
    ours = run_ours(gt, odd)
    # pycocotools' bbox IoU rejects tuple boxes: the same values as lists are its reference
    assert_same(ours, run_theirs(gt, dets if kind == "tuple_box" else odd))


@requires_pycocotools
@pytest.mark.parametrize("kind", ["plain", "bytes_counts", "numpy_score", "dict_subclass"])
def test_segm_result_lists_fast_and_python_readers_agree(kind):
    from cvkernels.bench.coco_data import with_segmentations

    gt, dets = with_segmentations(*synthetic_coco(30, 4, seed=5, score_decimals=2))
    odd = _odd(kind, dets)
    ours = run_segm(COCO, COCOeval, gt, odd)
    assert_same(ours, run_segm(PyCOCO, PyCOCOeval, gt, _odd(kind, dets)))
    if kind == "plain":  # the dicts get pycocotools' keys on first use of res.dataset, not before
        g = COCO(copy.deepcopy(gt))
        mine = copy.deepcopy(dets)
        r = g.loadRes(mine)
        assert r._dataset is None and "area" not in mine[0]
        ann = r.dataset["annotations"][0]
        assert ann is mine[0] and ann["id"] == 1 and ann["iscrowd"] == 0 and len(ann["bbox"]) == 4


def test_result_lists_bad_values_name_the_result():
    from cvkernels.bench.coco_data import with_segmentations

    gt, dets = synthetic_coco(10, 3, seed=6)
    g = COCO(copy.deepcopy(gt))
    for key, value, match in [("score", float("nan"), "result 3 has a NaN 'score'"),
                              ("bbox", [0, 0, -1, 2], "result 3: 'bbox' has a negative width"),
                              ("bbox", [0, float("inf"), 1, 2], "result 3: 'bbox' is not finite"),
                              ("image_id", 10**6, "not in the ground truth, e.g. image_id 1000000"),
                              ("score", "high", "result 3: 'score' must be a number")]:
        bad = copy.deepcopy(dets)
        bad[3][key] = value
        with pytest.raises(ValueError, match=match):
            g.loadRes(bad)
    gt, segm = with_segmentations(gt, dets)
    g = COCO(copy.deepcopy(gt))
    bad = copy.deepcopy(segm)
    bad[2]["segmentation"]["counts"] = "\x7f\x7f"
    with pytest.raises(ValueError, match="result 2: malformed RLE"):
        g.loadRes(bad)
    bad = copy.deepcopy(segm)
    bad[2]["image_id"] = -5
    with pytest.raises(ValueError, match="image_id -5"):
        g.loadRes(bad)


@requires_pycocotools
@pytest.mark.parametrize("form", ["masks_numpy", "masks_torch", "rles", "rles_and_boxes"])
def test_load_res_of_mask_columns_equals_the_list(form):
    from cvkernels import mask as mask_utils
    from cvkernels.bench.coco_data import with_segmentations

    gt, dets = with_segmentations(*synthetic_coco(25, 4, seed=8, score_decimals=2))
    if form == "rles_and_boxes":  # pycocotools' box rule: area w*h, the given boxes
        for d in dets:
            d["bbox"] = [float(v) for v in mask_utils.toBbox(d["segmentation"])]
    cols = {"image_id": np.array([d["image_id"] for d in dets]), "category_id": np.array([d["category_id"] for d in dets]),
            "score": np.array([d["score"] for d in dets])}
    if form.startswith("rles"):
        cols["segmentation"] = [d["segmentation"] for d in dets]
        if form == "rles_and_boxes":
            cols["bbox"] = np.array([d["bbox"] for d in dets])
    else:
        masks = mask_utils.from_rle([d["segmentation"] for d in dets])
        if form == "masks_torch":
            torch = pytest.importorskip("torch")
            masks = torch.from_numpy(masks).bool()
        cols["masks"] = masks
    theirs = run_segm(PyCOCO, PyCOCOeval, gt, dets)
    g = COCO(copy.deepcopy(gt))
    r = g.loadRes(cols)
    e = COCOeval(g, r, "segm")
    e.evaluate()
    e.accumulate()
    quiet(e.summarize)
    assert_same(e, theirs)
    assert r._dataset is None  # no dicts were made
    ann = r.dataset["annotations"][0]
    assert ann["area"] == theirs.cocoDt.anns[1]["area"] and list(ann["bbox"]) == list(theirs.cocoDt.anns[1]["bbox"])
    bad = {k: v for k, v in cols.items() if k != "segmentation"}
    bad["masks"] = np.zeros((2, 3, 3))
    with pytest.raises(ValueError, match="'masks' must have shape"):
        g.loadRes(bad)
    with pytest.raises(ValueError, match="'masks' or 'segmentation', not both"):
        g.loadRes(dict(bad, segmentation=[]))


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_bench_e2e_cases_give_every_evaluator_the_same_stats(iou_type):
    """The `cvkernels bench` coco-e2e cases run, and each form of the results (list, array,
    columns) gives cvkernels the stats that pycocotools gives (where installed)."""
    from cvkernels.bench import OURS
    from cvkernels.bench import coco as bench_coco
    from cvkernels.bench.coco_data import with_segmentations

    gt, dets = synthetic_coco(30, 6, seed=2)
    if iou_type == "segm":
        gt, dets = with_segmentations(gt, dets)
    cases = bench_coco._e2e_cases(gt, dets, "test", iou_type)
    assert len(cases) == (3 if iou_type == "bbox" else 2)
    ours = cases[0].impls[OURS]()
    for case in cases:
        np.testing.assert_array_equal(case.impls[OURS](), ours, err_msg=case.name)
        if "pycocotools" in case.impls:
            np.testing.assert_array_equal(case.impls["pycocotools"](), ours, err_msg=case.name)


def test_values_above_is_numpys_boolean_selection_on_strided_views(rng):
    """summarize's s[s > -1] of strided slices of accumulate's output: the same values in the
    same order (so np.mean of it is pycocotools' number to the bit)."""
    from cvkernels import _C

    a = rng.choice([-1.0, 0.0, 0.25, 1.0], size=(3, 5, 4, 4, 3)) + rng.random((3, 5, 4, 4, 3)) * (rng.random((3, 5, 4, 4, 3)) > 0.5)
    views = [a, a[..., 2, 1], a[:, ::2, :, 0, 2], a[[1]][..., 3, 0], a[0, 0, 0, 0], a[..., 1, :][..., ::-1], a[:0], np.float64(0.5) * a[0, 0, 0, 0, 0]]
    for v in views:
        v = np.asarray(v, dtype=np.float64)
        got = _C.values_above(v, -1.0)
        np.testing.assert_array_equal(got, v[v > -1])
        assert got.ndim == 1
