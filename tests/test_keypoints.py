"""COCO keypoint evaluation (iouType="keypoints") and the keypoint_oks op: the op against the
numpy reference (numpy and torch, both input layouts, empty sides, bad shapes); COCOeval against
pycocotools (stats, precision, recall, scores, evalImgs exactly; OKS to the rounding of exp) on
synthetic person-keypoint sets with unlabelled keypoints, persons without labels, crowds,
custom sigmas, useCats=0, image subsets and both loadRes branches; the CLI."""

import contextlib
import copy
import io
import json
import subprocess
import sys

import numpy as np
import pytest

import cvkernels
from cvkernels import reference
from cvkernels.bench.coco_data import synthetic_keypoints
from cvkernels.coco import COCO, COCOeval
from test_eval import run_segm

try:
    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval as PyCOCOeval
except ImportError:
    PyCOCO = None
requires_pycocotools = pytest.mark.skipif(PyCOCO is None, reason="pycocotools is not installed")


def _random_case(rng, D, G, K):
    gt = np.stack([rng.uniform(0, 100, (G, K)), rng.uniform(0, 100, (G, K)), rng.choice([0, 1, 2], (G, K))], 2)
    gt[: G // 3, :, 2] = 0  # some ground truth with nothing labelled
    dt = np.stack([rng.uniform(-20, 120, (D, K)), rng.uniform(-20, 120, (D, K)), np.ones((D, K))], 2)
    boxes = np.concatenate([rng.uniform(0, 60, (G, 2)), rng.uniform(1, 40, (G, 2))], 1)
    return dt, gt, boxes, rng.uniform(10, 3000, G), rng.uniform(0.02, 0.1, K)


@pytest.mark.parametrize("D,G,K", [(5, 4, 17), (1, 7, 3), (9, 1, 1), (0, 3, 17), (3, 0, 17)])
def test_keypoint_oks_matches_reference(D, G, K):
    dt, gt, boxes, areas, sigmas = _random_case(np.random.default_rng(D * 100 + G * 10 + K), D, G, K)
    ours = cvkernels.keypoint_oks(dt, gt, boxes, areas, sigmas)
    assert ours.shape == (D, G) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, reference.keypoint_oks(dt, gt, boxes, areas, sigmas), rtol=1e-14, atol=0)
    flat = cvkernels.keypoint_oks(dt.reshape(D, 3 * K), gt.reshape(G, 3 * K), boxes, areas, sigmas)
    np.testing.assert_array_equal(flat, ours)


def test_keypoint_oks_torch_and_default_sigmas():
    torch = pytest.importorskip("torch")
    dt, gt, boxes, areas, _ = _random_case(np.random.default_rng(0), 6, 5, 17)
    ours = cvkernels.keypoint_oks(torch.from_numpy(dt), torch.from_numpy(gt), torch.from_numpy(boxes),
                                  torch.from_numpy(areas))
    assert isinstance(ours, torch.Tensor) and ours.dtype == torch.float64
    sigmas = np.array(cvkernels.ap.COCO_KEYPOINT_SIGMAS)
    np.testing.assert_allclose(ours.numpy(), reference.keypoint_oks(dt, gt, boxes, areas, sigmas), rtol=1e-14)


def test_keypoint_oks_values_and_bad_input():
    gt = np.array([[10.0, 10.0, 2.0]])
    # one keypoint, offset 1 pixel, sigma 0.1, area 100: exp(-1 / 0.04 / 100 / 2)
    assert cvkernels.keypoint_oks([[11.0, 10.0, 1.0]], gt, [[0, 0, 10, 10]], [100.0], [0.1])[0, 0] == \
        pytest.approx(np.exp(-1 / 0.04 / (100 + np.spacing(1)) / 2), rel=1e-15)
    with pytest.raises(ValueError, match="dt_keypoints must have shape"):
        cvkernels.keypoint_oks(np.zeros((2, 4)), gt, [[0, 0, 1, 1]], [1.0], [0.1])
    with pytest.raises(ValueError, match="gt_boxes must have shape"):
        cvkernels.keypoint_oks(gt, gt, [[0, 0, 1]], [1.0], [0.1])
    with pytest.raises(ValueError, match="gt_areas must have shape"):
        cvkernels.keypoint_oks(gt, gt, [[0, 0, 1, 1]], [1.0, 2.0], [0.1])
    with pytest.raises(ValueError, match="sigmas must not be empty"):
        cvkernels.keypoint_oks(gt, gt, [[0, 0, 1, 1]], [1.0], [])


def _run(C, E, gt, dets, setup=None):
    return run_segm(C, E, gt, dets, setup, iou_type="keypoints")


def _assert_same(ours, theirs):
    np.testing.assert_array_equal(ours.stats, theirs.stats)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], theirs.eval[key], err_msg=key)
    assert len(ours.evalImgs) == len(theirs.evalImgs)
    for a, b in zip(ours.evalImgs, theirs.evalImgs):
        assert (a is None) == (b is None)
        if a is None:
            continue
        for key in ("image_id", "category_id", "aRng", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert list(np.ravel(a[key])) == list(np.ravel(b[key])), key
        for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)
    for key, v in theirs.ious.items():
        np.testing.assert_allclose(np.asarray(ours.ious[key]), np.asarray(v), rtol=1e-14, atol=0)


SETUPS = {
    "default": None,
    "subset": lambda p: setattr(p, "imgIds", p.imgIds[::3]),
    "maxDets": lambda p: setattr(p, "maxDets", [5]),
    "iouThrs": lambda p: setattr(p, "iouThrs", np.array([0.3, 0.5, 0.9])),
}


@requires_pycocotools
@pytest.mark.parametrize("with_bbox", [False, True])
@pytest.mark.parametrize("setup", list(SETUPS))
def test_cocoeval_keypoints_identical_to_pycocotools(with_bbox, setup):
    gt, dets = synthetic_keypoints(60, seed=3 + with_bbox, with_bbox=with_bbox, n_cats=2, crowd_frac=0.05)
    _assert_same(_run(COCO, COCOeval, gt, dets, SETUPS[setup]), _run(PyCOCO, PyCOCOeval, gt, dets, SETUPS[setup]))


@requires_pycocotools
def test_cocoeval_keypoints_without_categories():
    # pycocotools' computeOks ignores useCats=0 (it looks up category -1 and finds nothing, so
    # every keypoint AP is 0): a bug we do not copy. With one category, useCats=0 must give
    # what pycocotools gives with useCats=1.
    gt, dets = synthetic_keypoints(60, seed=5, crowd_frac=0.05)
    ours = _run(COCO, COCOeval, gt, dets, lambda p: setattr(p, "useCats", 0))
    theirs = _run(PyCOCO, PyCOCOeval, gt, dets)
    assert theirs.stats[0] > 0.05
    np.testing.assert_array_equal(ours.stats, theirs.stats)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], theirs.eval[key], err_msg=key)


@requires_pycocotools
def test_cocoeval_keypoints_custom_sigmas():
    gt, dets = synthetic_keypoints(40, seed=7, n_keypoints=5)

    def setup(p):
        p.kpt_oks_sigmas = np.array([0.05, 0.07, 0.09, 0.03, 0.1])

    ours, theirs = _run(COCO, COCOeval, gt, dets, setup), _run(PyCOCO, PyCOCOeval, gt, dets, setup)
    assert len(ours.stats) == 10
    _assert_same(ours, theirs)


def test_keypoints_bad_input():
    gt, dets = synthetic_keypoints(5, seed=0)
    short = copy.deepcopy(dets)
    short[1]["keypoints"] = short[1]["keypoints"][:-3]
    with pytest.raises(ValueError, match="result 1: 'keypoints' has 48 numbers, not 3 \\* 17"):
        _run(COCO, COCOeval, gt, short)
    no_num = copy.deepcopy(gt)
    del no_num["annotations"][2]["num_keypoints"]
    with pytest.raises(ValueError, match="annotation 2 has no numeric 'num_keypoints'"):
        _run(COCO, COCOeval, no_num, dets)
    nan = copy.deepcopy(dets)
    nan[0]["keypoints"][4] = float("nan")
    with pytest.raises(ValueError, match="result 0: 'keypoints' must be a list of \\(x, y, v\\) finite numbers"):
        _run(COCO, COCOeval, gt, nan)


def test_cli_keypoints(tmp_path):
    gt, dets = synthetic_keypoints(20, seed=1)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(gt))
    d.write_text(json.dumps(dets))
    code = "import sys; from cvkernels.cli import main; sys.exit(main(sys.argv[1:]))"
    res = subprocess.run([sys.executable, "-c", code, "eval", str(g), str(d), "--iou-type", "keypoints"],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets= 20 ]" in res.stdout
    expected = _run(COCO, COCOeval, gt, dets).stats[0]
    assert f"maxDets= 20 ] = {expected:0.3f}" in res.stdout


@requires_pycocotools
@pytest.mark.parametrize("with_bbox", [False, True])
def test_keypoint_files_read_natively(tmp_path, with_bbox):
    gt, dets = synthetic_keypoints(40, seed=11, with_bbox=with_bbox, crowd_frac=0.05)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(gt))
    d.write_text(json.dumps(dets))

    def run(C, E):
        with contextlib.redirect_stdout(io.StringIO()):
            c = C(str(g))
            r = c.loadRes(str(d))
            e = E(c, r, "keypoints")
            e.evaluate()
            e.accumulate()
            e.summarize()
        return c, r, e

    c, r, ours = run(COCO, COCOeval)
    assert c._native is not None and r._native is not None and r._dataset is None  # the C++ reader's columns
    theirs = run(PyCOCO, PyCOCOeval)[2]
    _assert_same(ours, theirs)
    # the loadRes rule (boxes from the keypoints' extent unless the results carry boxes): the
    # C++ reader's columns equal those of the dicts Python's loadRes builds
    native = r._columns(True)
    rd = r.dataset["annotations"]
    np.testing.assert_array_equal(native.bbox, np.array([a["bbox"] for a in rd], dtype=np.float64))
    np.testing.assert_array_equal(native.area, np.array([a["area"] for a in rd], dtype=np.float64))
