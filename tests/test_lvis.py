"""cvkernels.lvis against lvis-api (the `lvis` package: LVIS, LVISResults, LVISEval) on synthetic
LVIS-like sets, bbox and segm: identical results, precision and recall arrays; the federated
rules on hand-made sets; lvis-api's dataset methods."""

import copy
import json
import logging

import numpy as np
import pytest

from cvkernels import lvis as CL
from cvkernels import mask as mask_utils
from cvkernels.bench.lvis_data import synthetic_lvis

# lvis-api calls the deprecated Logger.warn
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def lvis_api(monkeypatch):
    lv = pytest.importorskip("lvis")
    monkeypatch.setattr(np, "float", float, raising=False)  # lvis-api 0.5.3 still uses np.float
    logging.getLogger("lvis").setLevel(logging.ERROR)
    return lv


def _peer_gt(lv, gt):
    g = lv.LVIS.__new__(lv.LVIS)  # lvis-api's LVIS only reads files: index a dict the same way
    g.logger = logging.getLogger("lvis")
    g.dataset = copy.deepcopy(gt)
    g._create_index()
    return g


def _rle_results(gt, dets):
    """Polygon detections as compressed RLEs (LVISResults reads segm results as RLEs)."""
    size = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    out = []
    for d in dets:
        h, w = size[d["image_id"]]
        rle = mask_utils.merge(mask_utils.frPyObjects(d["segmentation"], h, w))
        rle["counts"] = rle["counts"].decode()
        out.append({"image_id": d["image_id"], "category_id": d["category_id"], "segmentation": rle,
                    "score": d["score"]})
    return out


def _both(lv, gt, dets, max_dets, iou_type):
    """(lvis-api's evaluator, ours), run on copies of the same set."""
    g0, g1 = _peer_gt(lv, gt), CL.LVIS(copy.deepcopy(gt))
    e0 = lv.LVISEval(g0, lv.LVISResults(g0, copy.deepcopy(dets), max_dets=max_dets), iou_type)
    e1 = CL.LVISEval(g1, CL.LVISResults(g1, copy.deepcopy(dets), max_dets=max_dets), iou_type)
    e0.run()
    e1.run()
    return e0, e1


def _both_from_files(lv, folder, gt, dets, iou_type):
    """(lvis-api's evaluator, ours), each reading the same two JSON files."""
    path, res = folder / "gt.json", folder / "dets.json"
    path.write_text(json.dumps(gt))
    res.write_text(json.dumps(dets))
    e0 = lv.LVISEval(str(path), str(res), iou_type)
    e1 = CL.LVISEval(str(path), str(res), iou_type)
    e0.run()
    e1.run()
    return e0, e1


def _same(e0, e1):
    assert list(e0.results) == list(e1.results)
    for k, v in e0.results.items():
        assert e1.results[k] == v, k
    np.testing.assert_array_equal(e1.eval["precision"], e0.eval["precision"])
    np.testing.assert_array_equal(e1.eval["recall"], e0.eval["recall"])


@pytest.mark.parametrize("seed", [0, 1])
def test_bbox_like_lvis_api(lvis_api, seed):
    gt, dets = synthetic_lvis(40, n_cats=150, dets_per_image=40, seed=seed)
    _same(*_both(lvis_api, gt, dets, 35, "bbox"))


def test_full_vocabulary_like_lvis_api(lvis_api):
    # LVIS' 1,203 categories, more than 300 detections per image (the default cut applies)
    gt, dets = synthetic_lvis(20, n_cats=1203, dets_per_image=320, seed=5)
    _same(*_both(lvis_api, gt, dets, 300, "bbox"))


def test_segm_like_lvis_api(lvis_api):
    gt, dets = synthetic_lvis(15, n_cats=60, dets_per_image=25, seed=4, polygons=True)
    _same(*_both(lvis_api, gt, _rle_results(gt, dets), 20, "segm"))


def test_files_and_the_ignore_flag_like_lvis_api(lvis_api, tmp_path):
    gt, dets = synthetic_lvis(25, n_cats=80, dets_per_image=30, seed=7)
    for a in gt["annotations"][::9]:
        a["ignore"] = 1  # read from the file too (the fast reader does not keep it)
    _same(*_both_from_files(lvis_api, tmp_path, gt, dets, "bbox"))


def test_segm_results_file_with_boxes_like_lvis_api(lvis_api, tmp_path):
    # mask results that also carry a "bbox": read with their masks, not as box results
    gt, dets = synthetic_lvis(8, n_cats=40, dets_per_image=12, seed=6, polygons=True)
    dets = _rle_results(gt, dets)
    for d in dets:
        d["bbox"] = [float(v) for v in mask_utils.toBbox(d["segmentation"])]
    _same(*_both_from_files(lvis_api, tmp_path, gt, dets, "segm"))


def _tiny():
    cats = [{"id": c, "frequency": f} for c, f in ((1, "f"), (2, "c"), (3, "r"))]
    images = [{"id": 1, "width": 100, "height": 100, "neg_category_ids": [2], "not_exhaustive_category_ids": [1]}]
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600.0}]
    return {"images": images, "annotations": anns, "categories": cats}


def _ap(gt, dets):
    g = CL.LVIS(gt)
    e = CL.LVISEval(g, CL.LVISResults(g, dets), "bbox")
    e.run()
    return e


def test_federated_rules():
    hit = {"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.5}
    assert _ap(_tiny(), [hit]).results["AP"] == pytest.approx(1.0)
    # category 1 is not exhaustive in the image: an unmatched, higher-scoring detection of it
    # is ignored, not a false positive
    miss1 = {"image_id": 1, "category_id": 1, "bbox": [60, 60, 30, 30], "score": 0.9}
    assert _ap(_tiny(), [hit, miss1]).results["AP"] == pytest.approx(1.0)
    # category 3 is not labelled in the image: its detections are dropped (AP stays 1)
    other = {"image_id": 1, "category_id": 3, "bbox": [10, 10, 40, 40], "score": 0.9}
    assert _ap(_tiny(), [hit, other]).results["AP"] == pytest.approx(1.0)
    # category 2 is a verified negative: its detection counts (as a category without ground
    # truth it adds no AP, but AP stays defined by category 1)
    neg = {"image_id": 1, "category_id": 2, "bbox": [10, 10, 40, 40], "score": 0.9}
    e = _ap(_tiny(), [hit, neg])
    assert e.results["AP"] == pytest.approx(1.0) and e.eval["precision"][0, 0, 1, 0] == -1
    # exhaustive category: the same unmatched detection is a false positive
    gt = _tiny()
    gt["images"][0]["not_exhaustive_category_ids"] = []
    assert _ap(gt, [hit, miss1]).results["AP"] < 0.9
    # an ignored ground truth: neither counted nor a false positive when matched
    gt["annotations"][0]["ignore"] = 1
    assert _ap(gt, [hit]).results["AP"] == -1
    # max_dets per image across categories
    many = [dict(hit, score=0.01 * k) for k in range(10)]
    g = CL.LVIS(_tiny())
    assert len(CL.LVISResults(g, many, max_dets=3).dataset["annotations"]) == 3
    assert [a["score"] for a in CL.LVISResults(g, many, max_dets=3).dataset["annotations"]] == [0.09, 0.08, 0.07]


def test_dataset_methods_like_lvis_api(lvis_api):
    gt, _ = synthetic_lvis(10, n_cats=30, dets_per_image=1, seed=3)
    g0, g1 = _peer_gt(lvis_api, gt), CL.LVIS(copy.deepcopy(gt))
    imgs = g0.get_img_ids()[:4]
    assert g1.get_img_ids() == g0.get_img_ids() and g1.get_cat_ids() == g0.get_cat_ids()
    assert g1.get_ann_ids(img_ids=imgs) == g0.get_ann_ids(img_ids=imgs)
    assert g1.get_ann_ids(cat_ids=[1, 2, 3]) == g0.get_ann_ids(cat_ids=[1, 2, 3])
    cats = g0.get_cat_ids()
    assert g1.get_ann_ids(img_ids=imgs, cat_ids=cats, area_rng=[0, 5000]) == \
        g0.get_ann_ids(img_ids=imgs, cat_ids=cats, area_rng=[0, 5000])
    # (lvis-api fails on area_rng without cat_ids; here it filters by area alone)
    assert g1.get_ann_ids(area_rng=[0, 5000]) == g0.get_ann_ids(cat_ids=cats, area_rng=[0, 5000])
    assert g1.load_imgs(imgs) == g0.load_imgs(imgs) and g1.load_cats([2]) == g0.load_cats([2])
    assert g1.load_anns(g0.get_ann_ids()[:3]) == g0.load_anns(g0.get_ann_ids()[:3])


def test_errors():
    g = CL.LVIS(_tiny())
    with pytest.raises(ValueError, match="iou_type"):
        CL.LVISEval(g, [], "keypoints")
    with pytest.raises(TypeError):
        CL.LVISEval(3, [])
    with pytest.raises(ValueError, match="list"):
        CL.LVISResults(g, {"image_id": 1})
    e = CL.LVISEval(g, CL.LVISResults(g, []), "bbox")  # no detections: AP 0, not a crash
    e.run()
    assert e.results["AP"] == 0.0
    with pytest.raises(RuntimeError):
        CL.LVISEval(g, []).accumulate()
