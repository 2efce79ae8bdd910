"""cvkernels.coco driven the way third-party evaluation harnesses drive pycocotools, beside
pycocotools driven the same way, on the same data; everything the harness reads must be equal:
stats, the printed summary, eval['precision'] / ['recall'] and the harness' own tables.

- torchmetrics' MeanAveragePrecision (its "pycocotools" backend builds both sides as COCO(),
  assigns .dataset, calls createIndex(), edits areas for iou_type=("bbox", "segm"), evaluates
  class by class): run with cvkernels swapped into its backend loader.
- detectron2's COCOEvaluator (results as a list; segm results without boxes; loadRes; maxDets
  and imgIds set on params; per-category AP from eval['precision'][:, :, k, 0, -1]); keypoints
  with kpt_oks_sigmas.
- mmdetection's CocoMetric (results written to JSON files and loaded back; catIds, imgIds,
  maxDets (100, 300, 1000) and iouThrs set on params; classwise table from precision).
- ultralytics' and YOLOX's COCO evaluation (loadRes of a JSON path; imgIds set; summarize
  captured from stdout; stats[0:2]; per-class AP and AR tables).
Each over scenarios with crowds, images without ground truth or detections, categories absent
from the results, useCats=0, custom areaRng / maxDets / iouThrs and imgIds subsets.
"""

import contextlib
import copy
import io
import json

import numpy as np
import pytest

from cvkernels import mask as cvk_mask
from cvkernels.bench.coco_data import synthetic_coco, synthetic_keypoints, with_segmentations
from cvkernels.coco import COCO, COCOeval

pycocotools = pytest.importorskip("pycocotools")
from pycocotools import mask as py_mask  # noqa: E402
from pycocotools.coco import COCO as PyCOCO  # noqa: E402
from pycocotools.cocoeval import COCOeval as PyCOCOeval  # noqa: E402

OURS = (COCO, COCOeval, cvk_mask)
THEIRS = (PyCOCO, PyCOCOeval, py_mask)


def _data(seed=0, n=30, cats=5):
    gt, dets = synthetic_coco(n, cats, seed=seed, crowd_frac=0.05)
    # a category that no detection uses
    dets = [d for d in dets if d["category_id"] != 2]
    gt, segm_dets = with_segmentations(gt, dets, seed=seed)
    for d, s in zip(dets, segm_dets):
        s["bbox"] = d["bbox"]
    return gt, segm_dets  # results with both a box and a compressed RLE (str counts)


SCENARIOS = {
    "default": lambda p: None,
    "useCats0": lambda p: setattr(p, "useCats", 0),
    "areaRng": lambda p: (setattr(p, "areaRng", [[0, 1e10], [0, 50**2], [50**2, 1e10]]),
                          setattr(p, "areaRngLbl", ["all", "small", "large"])),
    "maxDets": lambda p: setattr(p, "maxDets", [5, 20, 100]),
    "iouThrs": lambda p: setattr(p, "iouThrs", np.array([0.3, 0.5, 0.7])),
    "imgIds": lambda p: setattr(p, "imgIds", p.imgIds[1::2]),
}


def _quiet(fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn()
    return result, out.getvalue()


# --- detectron2 ---------------------------------------------------------------------------

def detectron2_like(api, tmp_path, gt_dict, results, iou_type, img_ids=None, max_dets=None, kpt_oks_sigmas=None,
                    setup=None):
    """detectron2's COCO(json_file) + _evaluate_predictions_on_coco + _derive_coco_results,
    written from its documented behaviour."""
    C, E, _ = api
    path = tmp_path / "d2_gt.json"
    path.write_text(json.dumps(gt_dict))
    coco_gt, _ = _quiet(lambda: C(str(path)))
    results = copy.deepcopy(results)
    if iou_type == "segm":
        for r in results:  # segm AP must use the mask area: the boxes are dropped
            r.pop("bbox", None)
    coco_dt = coco_gt.loadRes(results)
    ev = E(coco_gt, coco_dt, iou_type)
    if iou_type != "keypoints":
        ev.params.maxDets = max_dets or [1, 10, 100]
    if img_ids is not None:
        ev.params.imgIds = img_ids
    if kpt_oks_sigmas is not None:
        ev.params.kpt_oks_sigmas = np.array(kpt_oks_sigmas)
    if setup:
        setup(ev.params)
    _quiet(lambda: (ev.evaluate(), ev.accumulate()))  # pycocotools prints progress here; we do not
    _, printed = _quiet(ev.summarize)
    names = {"bbox": ["AP", "AP50", "AP75", "APs", "APm", "APl"], "keypoints": ["AP", "AP50", "AP75", "APm", "APl"]}
    metrics = names.get(iou_type, names["bbox"])
    table = {m: float(ev.stats[i] * 100) if ev.stats[i] >= 0 else float("nan") for i, m in enumerate(metrics)}
    precisions = ev.eval["precision"]
    for k, cat in enumerate(sorted(coco_gt.getCatIds()) if ev.params.useCats else []):
        p = precisions[:, :, k, 0, -1]
        p = p[p > -1]
        table[f"AP-{cat}"] = float(np.mean(p) * 100) if p.size else float("nan")
    return table, printed, ev


def _same_tables(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])), (k, a[k], b[k])


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_detectron2_pattern(tmp_path, iou_type, scenario):
    gt, results = _data(seed=1)
    ours = detectron2_like(OURS, tmp_path, gt, results, iou_type, setup=SCENARIOS[scenario])
    theirs = detectron2_like(THEIRS, tmp_path, gt, results, iou_type, setup=SCENARIOS[scenario])
    _same_tables(ours[0], theirs[0])
    assert ours[1] == theirs[1]  # the printed summary
    np.testing.assert_array_equal(ours[2].eval["precision"], theirs[2].eval["precision"])
    np.testing.assert_array_equal(ours[2].eval["recall"], theirs[2].eval["recall"])


def test_detectron2_pattern_keypoints_and_image_subset(tmp_path):
    gt, results = synthetic_keypoints(40, seed=2, with_bbox=True)  # detectron2 writes boxes too
    for kwargs in ({}, {"kpt_oks_sigmas": [0.05] * 17}, {"img_ids": list(range(1, 41, 3))}):
        ours = detectron2_like(OURS, tmp_path, gt, results, "keypoints", **kwargs)
        theirs = detectron2_like(THEIRS, tmp_path, gt, results, "keypoints", **kwargs)
        _same_tables(ours[0], theirs[0])
        assert ours[1] == theirs[1]


# --- mmdetection ---------------------------------------------------------------------------

def mmdet_like(api, tmp_path, gt_dict, results, metric, proposal_nums=(100, 300, 1000), iou_thrs=None):
    """mmdetection's CocoMetric.compute_metrics: results go through JSON files; segm results
    lose their boxes; catIds / imgIds / maxDets / iouThrs are set on params."""
    C, E, _ = api
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt_dict))
    res_path = tmp_path / f"results.{metric}.json"
    res_path.write_text(json.dumps(results))
    coco_api, _ = _quiet(lambda: C(str(gt_path)))
    cat_ids = coco_api.getCatIds()
    img_ids = coco_api.getImgIds()
    predictions = json.loads(res_path.read_text())
    if metric == "segm":
        for x in predictions:
            x.pop("bbox")
    coco_dt = coco_api.loadRes(predictions)
    ev = E(coco_api, coco_dt, metric)
    ev.params.catIds = cat_ids
    ev.params.imgIds = img_ids
    ev.params.maxDets = list(proposal_nums)
    ev.params.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True) \
        if iou_thrs is None else np.array(iou_thrs)
    _quiet(lambda: (ev.evaluate(), ev.accumulate()))  # pycocotools prints progress here; we do not
    _, printed = _quiet(ev.summarize)
    keys = ["mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"]
    table = {k: float(f"{round(ev.stats[i], 3)}") for i, k in enumerate(keys)}
    precisions = ev.eval["precision"]
    for idx, cat in enumerate(cat_ids):  # classwise: AP, AP50, AP75, small, medium, large
        rows = [precisions[:, :, idx, 0, -1]] + ([precisions[t, :, idx, 0, -1] for t in (0, 5)]
                                                 if len(ev.params.iouThrs) == 10 else [])
        rows += [precisions[:, :, idx, a, -1] for a in (1, 2, 3)]
        for j, p in enumerate(rows):
            p = p[p > -1]
            table[f"{cat}-{j}"] = round(float(np.mean(p)), 3) if p.size else float("nan")
    return table, printed


@pytest.mark.parametrize("metric", ["bbox", "segm"])
@pytest.mark.parametrize("iou_thrs", [None, [0.5, 0.75]])
def test_mmdetection_pattern(tmp_path, metric, iou_thrs):
    gt, results = _data(seed=2)
    ours = mmdet_like(OURS, tmp_path, gt, results, metric, iou_thrs=iou_thrs)
    theirs = mmdet_like(THEIRS, tmp_path, gt, results, metric, iou_thrs=iou_thrs)
    _same_tables(ours[0], theirs[0])
    assert ours[1] == theirs[1]


# --- ultralytics and YOLOX ---------------------------------------------------------------------

def ultralytics_like(api, tmp_path, gt_dict, results, kinds=("bbox", "segm"), im_ids=None):
    """ultralytics' eval_json: loadRes of a JSON path holding boxes and RLEs together; imgIds
    from the dataloader's files; stats[:2] per kind."""
    C, E, _ = api
    anno_json, pred_json = tmp_path / "instances.json", tmp_path / "predictions.json"
    anno_json.write_text(json.dumps(gt_dict))
    pred_json.write_text(json.dumps(results))
    anno, _ = _quiet(lambda: C(str(anno_json)))
    pred = anno.loadRes(str(pred_json))
    out = {}
    for kind in kinds:
        val = E(anno, pred, kind)
        val.params.imgIds = im_ids if im_ids is not None else [img["id"] for img in gt_dict["images"]]
        _quiet(lambda: (val.evaluate(), val.accumulate()))
        _, printed = _quiet(val.summarize)
        out[kind] = (list(val.stats[:2]), printed)
    return out


def test_ultralytics_pattern(tmp_path):
    gt, results = _data(seed=3)
    for ids in (None, [img["id"] for img in gt["images"]][::2]):
        assert ultralytics_like(OURS, tmp_path, gt, results, im_ids=ids) == \
            ultralytics_like(THEIRS, tmp_path, gt, results, im_ids=ids)
    kp_gt, kp_results = synthetic_keypoints(30, seed=4, with_bbox=True)
    assert ultralytics_like(OURS, tmp_path, kp_gt, kp_results, ("bbox", "keypoints")) == \
        ultralytics_like(THEIRS, tmp_path, kp_gt, kp_results, ("bbox", "keypoints"))


def yolox_like(api, tmp_path, gt_dict, results):
    """YOLOX's COCOEvaluator.evaluate_prediction: results carry an empty 'segmentation'; the
    summary is captured as text; per-class AP and AR tables from eval['precision'/'recall']."""
    C, E, _ = api
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt_dict))
    coco_gt, _ = _quiet(lambda: C(str(gt_path)))
    data = [dict(r, segmentation=[]) for r in copy.deepcopy(results)]
    tmp = tmp_path / "yolox.json"
    tmp.write_text(json.dumps(data))
    coco_dt = coco_gt.loadRes(str(tmp))
    ev = E(coco_gt, coco_dt, "bbox")
    _quiet(lambda: (ev.evaluate(), ev.accumulate()))
    _, info = _quiet(ev.summarize)
    cat_ids = list(coco_gt.cats.keys())
    names = [coco_gt.cats[c]["name"] for c in sorted(cat_ids)]
    per_class = {}
    for idx, name in enumerate(names):
        p = ev.eval["precision"][:, :, idx, 0, -1]
        p = p[p > -1]
        r = ev.eval["recall"][:, idx, 0, -1]
        r = r[r > -1]
        per_class[name] = (float(np.mean(p) * 100) if p.size else float("nan"),
                           float(np.mean(r) * 100) if r.size else float("nan"))
    return ev.stats[0], ev.stats[1], info, per_class


def test_yolox_pattern(tmp_path):
    gt, results = _data(seed=4)
    ours, theirs = yolox_like(OURS, tmp_path, gt, results), yolox_like(THEIRS, tmp_path, gt, results)
    assert ours[:3] == theirs[:3]
    assert ours[3].keys() == theirs[3].keys()
    for k in ours[3]:
        np.testing.assert_array_equal(ours[3][k], theirs[3][k])


# --- torchmetrics ---------------------------------------------------------------------------

def _tm_inputs(seed, n_images=12, masks=True):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    H, W = 64, 80
    for i in range(n_images):
        def boxes(k):
            xy = rng.uniform(0, 50, (k, 2))
            wh = rng.uniform(4, 30, (k, 2))
            return np.concatenate([xy, xy + wh], 1)

        n_gt = 0 if i == 3 else int(rng.integers(1, 6))  # an image without ground truth
        gb = boxes(n_gt)
        t = {"boxes": torch.tensor(gb, dtype=torch.float32), "labels": torch.tensor(rng.integers(0, 4, n_gt)),
             "iscrowd": torch.tensor((rng.uniform(size=n_gt) < 0.15).astype(np.int64))}
        n_dt = 0 if i == 5 else int(rng.integers(1, 9))  # an image without detections
        # jittered ground truth (mostly the right label) and false positives
        db = np.concatenate([gb + rng.normal(0, 2, gb.shape), boxes(max(0, n_dt - n_gt))])[:n_dt] if n_dt else boxes(0)
        labels = np.concatenate([t["labels"].numpy(), rng.integers(0, 4, len(db))])[:len(db)]
        flip = rng.uniform(size=len(db)) < 0.1
        labels[flip] = rng.integers(0, 4, int(flip.sum()))
        p = {"boxes": torch.tensor(db, dtype=torch.float32), "scores": torch.tensor(rng.uniform(0, 1, len(db)),
                                                                                   dtype=torch.float32),
             "labels": torch.tensor(labels)}
        if masks:
            def mask_of(b):
                m = np.zeros((len(b), H, W), bool)
                for j, (x1, y1, x2, y2) in enumerate(b):
                    m[j, int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))] = True
                return torch.tensor(m)
            t["masks"], p["masks"] = mask_of(gb), mask_of(db)
        preds.append(p)
        targets.append(t)
    return preds, targets


def _torchmetrics_map(monkeypatch, api, preds, targets, **kwargs):
    tm_helpers = pytest.importorskip("torchmetrics.detection.helpers")
    from torchmetrics.detection import MeanAveragePrecision

    if api is OURS:
        monkeypatch.setattr(tm_helpers, "_load_coco_backend_tools", lambda backend: OURS)
    else:
        monkeypatch.setattr(tm_helpers, "_load_coco_backend_tools", lambda backend: THEIRS)
    metric = MeanAveragePrecision(backend="pycocotools", **kwargs)
    metric.update(preds, targets)
    return metric.compute()


def _same_results(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):  # extended_summary's ious
            assert a[k].keys() == b[k].keys()
            for key in a[k]:
                np.testing.assert_allclose(np.asarray(a[k][key]), np.asarray(b[k][key]), rtol=0, atol=0, err_msg=k)
        else:
            np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


TM_CONFIGS = {
    "bbox": {},
    "bbox-classes-extended": {"class_metrics": True, "extended_summary": True},
    "bbox-micro": {"average": "micro"},
    "bbox-thresholds": {"iou_thresholds": [0.5, 0.75], "rec_thresholds": [0.0, 0.5, 1.0],
                        "max_detection_thresholds": [1, 5, 100]},
    "segm": {"iou_type": "segm"},
    "bbox+segm": {"iou_type": ("bbox", "segm"), "class_metrics": True},
}


@pytest.mark.parametrize("config", list(TM_CONFIGS))
def test_torchmetrics_mean_average_precision(monkeypatch, config):
    pytest.importorskip("torchmetrics")
    preds, targets = _tm_inputs(seed=5)
    kwargs = TM_CONFIGS[config]
    ours = _torchmetrics_map(monkeypatch, OURS, preds, targets, **kwargs)
    theirs = _torchmetrics_map(monkeypatch, THEIRS, preds, targets, **kwargs)
    _same_results(ours, theirs)
    assert float(theirs["map"] if "map" in theirs else theirs["bbox_map"]) > 0.05  # not a vacuous comparison


# --- the defects found through the harnesses, pinned as the callers hit them ------------------

def _as_torchmetrics_builds(C, E, gt_dict, dt_dict, iou_type="bbox", edit=None):
    """COCO() for both sides, .dataset assigned, createIndex(), optional edit of the dicts,
    COCOeval: torchmetrics' pycocotools backend."""
    gt, dt = C(), C()
    gt.dataset, dt.dataset = copy.deepcopy(gt_dict), copy.deepcopy(dt_dict)
    _quiet(lambda: (gt.createIndex(), dt.createIndex()))
    if edit:
        edit(gt, dt)
    e = E(gt, dt, iou_type)
    _quiet(lambda: (e.evaluate(), e.accumulate(), e.summarize()))
    return list(e.stats)


_IMG = [{"id": 1, "height": 100, "width": 100}]
_CATS = [{"id": 1, "name": "a"}]


def test_scores_of_results_built_without_load_res():
    gt = {"images": _IMG, "categories": _CATS, "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0}]}
    dt = {"images": _IMG, "categories": _CATS, "annotations": [  # the true positive scores lower
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0, "score": 0.1},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [60, 60, 20, 20], "area": 400, "iscrowd": 0, "score": 0.9}]}
    ours = _as_torchmetrics_builds(COCO, COCOeval, gt, dt)
    assert ours == _as_torchmetrics_builds(PyCOCO, PyCOCOeval, gt, dt)
    assert ours[1] == pytest.approx(0.5, abs=0.01)  # AP50 with the false positive ranked first


def test_segm_annotations_without_bbox():
    rle = py_mask.frPyObjects([[10, 10, 30, 10, 30, 30, 10, 30]], 100, 100)[0]
    rle["counts"] = rle["counts"].decode()
    gt = {"images": _IMG, "categories": _CATS, "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle, "area": 400, "iscrowd": 0}]}
    dt = {"images": _IMG, "categories": _CATS, "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle, "area": 400, "iscrowd": 0, "score": 0.5}]}
    ours = _as_torchmetrics_builds(COCO, COCOeval, gt, dt, "segm")
    assert ours == _as_torchmetrics_builds(PyCOCO, PyCOCOeval, gt, dt, "segm") and ours[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="annotation 0 has no 'bbox' \\(bbox evaluation needs one\\)"):
        _as_torchmetrics_builds(COCO, COCOeval, gt, dt, "bbox")


def test_areas_edited_after_create_index_count():
    gt = {"images": _IMG, "categories": _CATS, "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0}]}
    dt = {"images": _IMG, "categories": _CATS, "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0, "score": 0.5}]}

    def edit(g, d):  # what torchmetrics does for iou_type=("bbox", "segm")
        for a in g.dataset["annotations"] + d.dataset["annotations"]:
            a["area"] = 100.0

    ours = _as_torchmetrics_builds(COCO, COCOeval, gt, dt, edit=edit)
    assert ours == _as_torchmetrics_builds(PyCOCO, PyCOCOeval, gt, dt, edit=edit)
    assert ours[3] == pytest.approx(1.0)  # AP_small: the edited area makes the object small


def test_file_gt_segmentations_edited_after_an_evaluation(tmp_path):
    # A file read by the fast reader gets its segmentations from a one-off load that is not
    # kept; editing them through .dataset afterwards must still count, as in pycocotools.
    gt, dets = with_segmentations(*synthetic_coco(8, 3, seed=2, gt_per_image=4, dets_per_image=6))
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))

    def run(C, E, edit):
        g = _quiet(lambda: C(str(path)))[0]
        stats = []
        for step in range(2):
            if step:
                edit(g)
            e = E(g, _quiet(lambda: g.loadRes(copy.deepcopy(dets)))[0], "segm")
            _quiet(lambda: (e.evaluate(), e.accumulate(), e.summarize()))
            stats.append(e.stats.tolist())
        return stats

    def edit(g):  # every ground-truth mask becomes a one-pixel square in the corner
        for a in g.dataset["annotations"]:
            a["segmentation"] = [[0, 0, 1, 0, 1, 1, 0, 1]]

    ours = run(COCO, COCOeval, edit)
    assert ours == run(PyCOCO, PyCOCOeval, edit)
    assert ours[0] != ours[1] and ours[0][0] > 0
