"""COCO evaluation sharded by image: the match records of disjoint shards, merged, give the
numbers of one evaluation of all the images (precision, recall, scores and stats exactly), for
bbox, segm and keypoints, with tied scores across images, custom parameters, useCats=0, uneven
shards and an empty one; the records pickle; bad merges raise; evaluate_sharded over two
processes (torch.distributed, gloo) equals one process."""

import contextlib
import copy
import io
import json
import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest

from cvkernels.bench.coco_data import synthetic_coco, synthetic_keypoints, with_segmentations
from cvkernels.coco import COCO, COCOeval, MatchRecords, evaluate_sharded, merge_match_records


def _quiet(fn, *args, **kw):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kw)


def _data(iou_type, seed=0, n=40):
    if iou_type == "keypoints":
        return synthetic_keypoints(n, seed=seed, n_cats=2, crowd_frac=0.05)
    gt, dets = synthetic_coco(n, 6, seed=seed, crowd_frac=0.05, score_decimals=1)  # ties across images
    if iou_type == "segm":
        gt, dets = with_segmentations(gt, dets, seed=seed)
    return gt, dets


def _evaluate(gt, dets, iou_type, img_ids=None, setup=None):
    g = COCO(copy.deepcopy(gt))
    e = COCOeval(g, g.loadRes(copy.deepcopy(dets)), iou_type)
    if setup:
        setup(e.params)
    if img_ids is not None:
        e.params.imgIds = img_ids
    e.evaluate()
    return e


def _one(gt, dets, iou_type, setup=None):
    e = _evaluate(gt, dets, iou_type, setup=setup)
    e.accumulate()
    _quiet(e.summarize)
    return e


def _assert_same(merged, one):
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(merged.eval[key], one.eval[key], err_msg=key)
    np.testing.assert_array_equal(merged.stats, one.stats)


SHARDINGS = {
    "interleaved": lambda ids: [ids[0::3], ids[1::3], ids[2::3]],
    "uneven_and_empty": lambda ids: [ids[:5], [], ids[5:]],
    "reversed_blocks": lambda ids: [ids[20:], ids[:20]],
}

SETUPS = {
    "default": None,
    "useCats0": lambda p: setattr(p, "useCats", 0),
    "maxDets": lambda p: setattr(p, "maxDets", [2, 7]),
    "thresholds": lambda p: (setattr(p, "iouThrs", np.array([0.3, 0.5, 0.8])),
                             setattr(p, "recThrs", np.array([0.0, 0.25, 0.5, 1.0]))),
}


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
@pytest.mark.parametrize("sharding", list(SHARDINGS))
def test_merged_shards_equal_one_evaluation(iou_type, sharding):
    gt, dets = _data(iou_type)
    ids = sorted(COCO(copy.deepcopy(gt)).getImgIds())
    shards = SHARDINGS[sharding](ids)
    records = [_evaluate(gt, dets, iou_type, img_ids=s).match_records() for s in shards]
    assert sum(len(r) for r in records) > 0
    _assert_same(_quiet(merge_match_records, records, summarize=True), _one(gt, dets, iou_type))


@pytest.mark.parametrize("setup", list(SETUPS))
def test_merged_shards_with_params(setup):
    gt, dets = _data("bbox", seed=1)
    ids = sorted(COCO(copy.deepcopy(gt)).getImgIds())
    records = [_evaluate(gt, dets, "bbox", img_ids=s, setup=SETUPS[setup]).match_records() for s in (ids[1::2], ids[::2])]
    _assert_same(_quiet(merge_match_records, records, summarize=True), _one(gt, dets, "bbox", SETUPS[setup]))


def test_records_pickle_and_report():
    gt, dets = _data("bbox")
    e = _evaluate(gt, dets, "bbox")
    r = pickle.loads(pickle.dumps(e.match_records()))
    assert isinstance(r, MatchRecords) and len(r) == len(r.score) > 0
    assert r.state.shape == (len(r), 4, 10) and r.npig.shape == (6, 4)
    merged = merge_match_records([r])
    assert merged.ap_per_class() == _one(gt, dets, "bbox").ap_per_class()
    assert "category" in merged.per_class_table()


def test_bad_merges():
    gt, dets = _data("bbox")
    ids = sorted(COCO(copy.deepcopy(gt)).getImgIds())
    a = _evaluate(gt, dets, "bbox", img_ids=ids[:25]).match_records()
    b = _evaluate(gt, dets, "bbox", img_ids=ids[20:]).match_records()
    with pytest.raises(ValueError, match="overlap: image_id"):
        merge_match_records([a, b])
    c = _evaluate(gt, dets, "bbox", img_ids=ids[25:], setup=lambda p: setattr(p, "maxDets", [1, 10])).match_records()
    with pytest.raises(ValueError, match="params.maxDets"):
        merge_match_records([a, c])
    with pytest.raises(ValueError, match="at least one"):
        merge_match_records([])
    with pytest.raises(TypeError, match="not MatchRecords"):
        merge_match_records([a, {"score": []}])
    with pytest.raises(RuntimeError, match="evaluate"):
        COCOeval(COCO(copy.deepcopy(gt)), COCO(copy.deepcopy(gt)), "bbox").match_records()


def test_evaluate_sharded_in_one_process():
    gt, dets = _data("bbox")
    g = COCO(copy.deepcopy(gt))
    e = _quiet(evaluate_sharded, g, g.loadRes(copy.deepcopy(dets)), "bbox",
               params=_evaluate(gt, dets, "bbox", setup=SETUPS["maxDets"]).params)
    _assert_same(e, _one(gt, dets, "bbox", SETUPS["maxDets"]))


_CHILD = r"""
import copy, json, os, sys, contextlib, io
import torch, torch.distributed as dist
from cvkernels.bench.coco_data import synthetic_coco
from cvkernels.coco import COCO, evaluate_sharded

def main(rank, world, port, shards, out):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    gt, dets = synthetic_coco(40, 6, seed=0, crowd_frac=0.05, score_decimals=1)
    mine = shards[rank]
    g = COCO(gt)
    dt = g.loadRes([d for d in dets if d["image_id"] in set(mine)] or [])
    with contextlib.redirect_stdout(io.StringIO()):
        e = evaluate_sharded(g, dt, "bbox", imgIds=mine)
    if rank == 0:
        json.dump({"stats": e.stats.tolist(), "precision": e.eval["precision"].tolist()}, open(out, "w"))
    else:
        assert e is None
    dist.destroy_process_group()

if __name__ == "__main__":
    shards, out, port = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    torch.multiprocessing.spawn(main, args=(len(shards), port, shards, out), nprocs=len(shards))
"""


@pytest.mark.parametrize("split", ["interleaved", "uneven_and_empty"])
def test_evaluate_sharded_two_processes(tmp_path, split):
    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    gt, dets = synthetic_coco(40, 6, seed=0, crowd_frac=0.05, score_decimals=1)
    ids = sorted(im["id"] for im in gt["images"])
    shards = [ids[0::2], ids[1::2]] if split == "interleaved" else [ids, []]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script, out = tmp_path / "child.py", tmp_path / "out.json"
    script.write_text(_CHILD)
    res = subprocess.run([sys.executable, str(script), json.dumps(shards), str(out), str(port)], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(out.read_text())
    one = _one(gt, dets, "bbox")
    assert got["stats"] == one.stats.tolist()
    assert got["precision"] == one.eval["precision"].tolist()
