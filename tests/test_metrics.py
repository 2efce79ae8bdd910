"""cvkernels.metrics.MeanAveragePrecision against torchmetrics' MeanAveragePrecision with its
pycocotools backend (the definition): every key of compute() equal, over bbox, segm, both,
per-class figures, extended summaries, micro averaging, custom thresholds, box formats,
crowds and given areas, images without ground truth or detections, several updates, reset."""

import pytest

torch = pytest.importorskip("torch")
tm_detection = pytest.importorskip("torchmetrics.detection")
pytest.importorskip("pycocotools")
from cvkernels.metrics import MeanAveragePrecision  # noqa: E402

from test_coco_harnesses import _same_results as _same, _tm_inputs  # noqa: E402


CONFIGS = {
    "bbox": {},
    "bbox-classes-extended": {"class_metrics": True, "extended_summary": True},
    "bbox-micro": {"average": "micro"},
    "bbox-thresholds": {"iou_thresholds": [0.5, 0.75], "rec_thresholds": [0.0, 0.5, 1.0],
                        "max_detection_thresholds": [1, 5, 100]},
    "bbox-cxcywh": {"box_format": "cxcywh"},
    "segm": {"iou_type": "segm", "class_metrics": True},
    "bbox+segm": {"iou_type": ("bbox", "segm"), "class_metrics": True},
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_equals_torchmetrics(config):
    kwargs = CONFIGS[config]
    preds, targets = _tm_inputs(seed=11)
    if kwargs.get("box_format") == "cxcywh":
        for d in preds + targets:
            b = d["boxes"]
            d["boxes"] = torch.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0],
                                      b[:, 3] - b[:, 1]], 1)
    for t in targets[::3]:  # given areas on some images
        t["area"] = torch.rand(len(t["labels"])) * 500
    ours, theirs = MeanAveragePrecision(**kwargs), tm_detection.MeanAveragePrecision(**kwargs)
    for m in (ours, theirs):  # two updates
        m.update(preds[:5], targets[:5])
        m.update(preds[5:], targets[5:])
    a, b = ours.compute(), theirs.compute()
    _same(a, b)
    assert float(a["map"] if "map" in a else a["bbox_map"]) > 0.05


@pytest.mark.filterwarnings("ignore:The ``compute`` method of metric:UserWarning")
def test_empty_and_reset():
    ours, theirs = MeanAveragePrecision(class_metrics=True), tm_detection.MeanAveragePrecision(class_metrics=True)
    _same(ours.compute(), theirs.compute())  # nothing updated: -1 everywhere
    preds, targets = _tm_inputs(seed=12, n_images=4, masks=False)
    ours.update(preds, targets)
    ours.reset()
    _same(ours.compute(), theirs.compute())


def test_bad_inputs():
    m = MeanAveragePrecision()
    good = dict(boxes=torch.rand(2, 4), scores=torch.rand(2), labels=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="same length"):
        m.update([good], [])
    with pytest.raises(ValueError, match="`scores` key"):
        m.update([dict(boxes=torch.rand(2, 4), labels=torch.tensor([0, 1]))], [good])
    with pytest.raises(ValueError, match="different length"):
        m.update([dict(good, scores=torch.rand(3))], [good])
    with pytest.raises(ValueError, match="box_format"):
        MeanAveragePrecision(box_format="yxyx")


_DDP_CHILD = r"""
import json, os, sys, torch, torch.distributed as dist
sys.path.insert(0, os.environ["CVK_TESTS"])
from test_coco_harnesses import _tm_inputs
from cvkernels.metrics import MeanAveragePrecision

def main(rank, world, port, shards, out):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    preds, targets = _tm_inputs(seed=21, n_images=12, masks=False)
    m = MeanAveragePrecision(class_metrics=True)
    mine = shards[rank]
    if mine:
        m.update([preds[i] for i in mine], [targets[i] for i in mine])
    result = m.compute()
    if rank == 0:
        json.dump({k: v.tolist() for k, v in result.items()}, open(out, "w"))
    dist.destroy_process_group()

if __name__ == "__main__":
    shards, out, port = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    torch.multiprocessing.spawn(main, args=(len(shards), port, shards, out), nprocs=len(shards))
"""


@pytest.mark.parametrize("shards", [
    [[0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9, 11]],  # DistributedSampler's interleaving
    [[0, 2, 4, 6, 8, 10, 11], [1, 3, 5, 7, 9]],  # uneven
    [list(range(12)), []],  # a process that saw no images
])
def test_two_processes_equal_one(tmp_path, shards):
    import json
    import os
    import socket
    import subprocess
    import sys

    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script, out = tmp_path / "ddp.py", tmp_path / "out.json"
    script.write_text(_DDP_CHILD)
    env = dict(os.environ, CVK_TESTS=os.path.dirname(__file__), OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, str(script), json.dumps(shards), str(out), str(port)], capture_output=True,
                         text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(out.read_text())
    preds, targets = _tm_inputs(seed=21, n_images=12, masks=False)
    order = [i for k in range(12) for shard in shards if k < len(shard) for i in [shard[k]]]
    one = MeanAveragePrecision(class_metrics=True)
    one.update([preds[i] for i in order], [targets[i] for i in order])
    expected = {k: v.tolist() for k, v in one.compute().items()}
    assert got == expected


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
@pytest.mark.parametrize("level", ["samplewise", "global"])
@pytest.mark.parametrize("fmt", ["index", "one-hot", "mixed"])
@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.filterwarnings("ignore:DiceScore metric currently defaults:UserWarning")
def test_dice_score_equals_torchmetrics(average, level, fmt, include_background):
    from torchmetrics.segmentation import DiceScore as TMDice

    from cvkernels.metrics import DiceScore

    g = torch.Generator().manual_seed(3)
    C = 4
    kwargs = dict(num_classes=C, include_background=include_background, average=average, aggregation_level=level,
                  input_format=fmt)
    ours, theirs = DiceScore(**kwargs), TMDice(**kwargs)
    for batch in range(3):
        p = torch.randint(0, C, (2, 9, 7), generator=g)
        t = torch.where(torch.rand(2, 9, 7, generator=g) < 0.6, p, torch.randint(0, C, (2, 9, 7), generator=g))
        t[:, :, 0] = 3 if batch == 1 else t[:, :, 0]
        p[0] = 0 if batch == 2 else p[0]  # classes absent from a sample
        one_hot = lambda x: torch.nn.functional.one_hot(x, C).movedim(-1, 1)  # noqa: E731
        if fmt == "one-hot":
            args = (one_hot(p), one_hot(t))
        elif fmt == "mixed":
            args = (torch.randn(2, C, 9, 7, generator=g), t)  # scores: argmax over C
        else:
            args = (p, t)
        ours.update(*args)
        theirs.update(*args)
    torch.testing.assert_close(ours.compute(), theirs.compute(), rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("per_class", [False, True])
@pytest.mark.parametrize("fmt", ["index", "one-hot", "mixed"])
@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("given", [True, False])
def test_mean_iou_equals_torchmetrics(per_class, fmt, include_background, given):
    from torchmetrics.segmentation import MeanIoU as TMIoU

    from cvkernels.metrics import MeanIoU

    if fmt == "index" and not given:
        pytest.skip("index input needs num_classes")
    g = torch.Generator().manual_seed(4)
    C = 5
    kwargs = dict(num_classes=C if given else None, include_background=include_background, per_class=per_class,
                  input_format=fmt)
    ours, theirs = MeanIoU(**kwargs), TMIoU(**kwargs)
    one_hot = lambda x: torch.nn.functional.one_hot(x, C).movedim(-1, 1)  # noqa: E731
    for batch in range(3):
        p = torch.randint(0, C - 1, (3, 8, 6), generator=g)  # class 4 never predicted
        t = torch.where(torch.rand(3, 8, 6, generator=g) < 0.5, p, torch.randint(0, C - 1, (3, 8, 6), generator=g))
        args = {"one-hot": (one_hot(p), one_hot(t)), "mixed": (torch.randn(3, C, 8, 6, generator=g), t),
                "index": (p, t)}[fmt]
        ours.update(*args)
        theirs.update(*args)
    torch.testing.assert_close(ours.compute(), theirs.compute().to(ours.compute().dtype), rtol=0, atol=0)
