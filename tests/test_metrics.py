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
