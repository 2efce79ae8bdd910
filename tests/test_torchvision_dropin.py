"""torchvision drop-in where pipelines use it: TorchScript (each op, a module calling them,
gradients through scripted RoI ops, the nn modules), torch.fx (ops stay leaf calls),
torch.compile, exceptions that `except RuntimeError` catches, MultiScaleRoIAlign against
torchvision's, the top-level module names, and patch_torchvision() on torchvision's detection
models (patched and stock give the same detections)."""

import warnings

import pytest

torch = pytest.importorskip("torch")
import cvkernels  # noqa: E402
from cvkernels._torch import script as script_twins  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # torch.jit.script's deprecation notice
    pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning"),  # torch's quantization notice
]


def _script(obj):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.jit.script(obj)


def _boxes(n, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 50
    wh = torch.rand(n, 2, generator=g) * 30 + 1
    return torch.cat([xy, xy + wh], 1).to(dtype)


ARGS = {
    "box_iou": lambda: (_boxes(5), _boxes(4, 1)),
    "generalized_box_iou": lambda: (_boxes(5), _boxes(4, 1)),
    "distance_box_iou": lambda: (_boxes(5), _boxes(4, 1)),
    "complete_box_iou": lambda: (_boxes(5), _boxes(4, 1)),
    "generalized_box_iou_loss": lambda: (_boxes(5), _boxes(5, 1)),
    "distance_box_iou_loss": lambda: (_boxes(5), _boxes(5, 1)),
    "complete_box_iou_loss": lambda: (_boxes(5), _boxes(5, 1)),
    "box_area": lambda: (_boxes(5),),
    "box_convert": lambda: (_boxes(5), "xyxy", "cxcywh"),
    "nms": lambda: (_boxes(30), torch.rand(30), 0.3),
    "batched_nms": lambda: (_boxes(30), torch.rand(30), torch.randint(0, 3, (30,)), 0.3),
    "soft_nms": lambda: (_boxes(30), torch.rand(30)),
    "batched_soft_nms": lambda: (_boxes(30), torch.rand(30), torch.randint(0, 3, (30,))),
    "multiclass_nms": lambda: (_boxes(12).reshape(1, 12, 4), torch.rand(1, 12, 3)),
    "roi_align": lambda: (torch.rand(2, 3, 16, 16), torch.tensor([[0, 1, 1, 9, 9], [1, 0, 2, 15, 12.]]), 3),
    "roi_pool": lambda: (torch.rand(2, 3, 16, 16), [_boxes(2), _boxes(3, 1)], (2, 3)),
    "dilated_conv2d": lambda: (torch.rand(1, 2, 9, 9), torch.rand(4, 2, 3, 3), None, 1, 2, 2),
    "pairwise_mask_iou": lambda: (torch.rand(3, 8, 8) > 0.5, torch.rand(2, 8, 8) > 0.5),
    "pairwise_mask_dice": lambda: (torch.rand(3, 8, 8) > 0.5, torch.rand(2, 8, 8) > 0.5),
    "sigmoid_focal_loss": lambda: (torch.randn(4, 9), (torch.rand(4, 9) > 0.7).float(), 0.25, 2.0, "mean"),
    "softmax_focal_loss": lambda: (torch.randn(3, 4, 5), torch.randint(0, 4, (3, 5)), 2.0, torch.rand(4), 1, "sum"),
    "decode_boxes": lambda: (torch.randn(5, 8), torch.tensor([[0.0, 0, 10, 20]]).repeat(5, 1), (1.0, 2.0, 1.0, 2.0), 4.0),
    "encode_boxes": lambda: (torch.tensor([[1.0, 2, 11, 22]]).repeat(3, 1), torch.tensor([[0.0, 0, 10, 20]]).repeat(3, 1)),
    "decode_topk": lambda: (torch.randn(6, 3), torch.randn(6, 4), torch.tensor([[0.0, 0, 10, 20]]).repeat(6, 1), 0.3, 4,
                            (1.0, 1.0, 1.0, 1.0), 4.0, (50.0, 40.0)),
    "box_iou_rotated": lambda: (torch.rand(4, 5) * 10, torch.rand(3, 5) * 10),
    "nms_rotated": lambda: (torch.rand(20, 5) * 10, torch.rand(20), 0.3),
    "batched_nms_rotated": lambda: (torch.rand(20, 5) * 10, torch.rand(20), torch.randint(0, 3, (20,)), 0.3),
    "heatmap_peaks": lambda: (torch.rand(2, 3, 6, 5), torch.rand(2, 2, 6, 5), torch.rand(2, 2, 6, 5), 8, 3),
    "decode_yolo": lambda: (torch.randn(3, 4, 5, 8) + 1, torch.tensor([[10.0, 13], [16, 30], [33, 23]]), 8.0, 0.3, 7,
                            "v5"),
}


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_every_scripted_op_has_a_case():
    assert set(ARGS) == set(script_twins.SCRIPTED)
    assert script_twins.FAILED == []  # every TorchScript version compiled


@pytest.mark.parametrize("name", sorted(ARGS))
def test_torch_jit_script_of_each_op_equals_eager(name):
    fn = getattr(cvkernels, name)
    args = ARGS[name]()
    _same(_script(fn)(*args), fn(*args))


class _Pipeline(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.align = cvkernels.RoIAlign((3, 3), 0.5, 2, aligned=True)
        self.pool = cvkernels.RoIPool(2, 1.0)

    def forward(self, x, boxes, scores, labels):
        keep = cvkernels.batched_nms(boxes, scores, labels, 0.5)
        kept = boxes[keep]
        iou = cvkernels.generalized_box_iou(kept, kept)
        loss = cvkernels.complete_box_iou_loss(kept, kept.flip(0), reduction="sum")
        a = self.align(x, [kept])
        p = self.pool(x, [kept])
        area = cvkernels.box_area(cvkernels.box_convert(kept, "xyxy", "xywh"), fmt="xywh")
        return keep, iou, loss, a, p, area


def test_torch_jit_script_of_a_module_equals_eager():
    m = _Pipeline()
    args = (torch.rand(1, 4, 32, 32), _boxes(40), torch.rand(40), torch.randint(0, 4, (40,)))
    scripted = _script(m)
    _same(scripted(*args), m(*args))
    assert "cvkernels" in scripted.code or "cvkernels" in str(scripted.graph)


@pytest.mark.parametrize("name", ["roi_align", "roi_pool"])
def test_gradcheck_through_scripted_roi_ops(name):
    x = torch.rand(1, 8, 5, 5, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 0, 0, 4, 4], [0, 0, 2, 3, 4], [0, 2, 2, 4, 4]], dtype=torch.float64)
    scripted = _script(getattr(cvkernels, name))
    extra = (1.0, 1) if name == "roi_align" else (1.0,)
    assert torch.autograd.gradcheck(lambda z: scripted(z, rois, 2, *extra), (x,), atol=1e-5)


def test_scripted_modules_take_a_list_of_boxes():
    roi = torch.tensor([[0, 0, 0, 9, 9], [0, 0, 5, 4, 9], [0, 5, 5, 9, 9], [1, 0, 0, 9, 9]], dtype=torch.float).t()
    for module in (cvkernels.RoIPool(output_size=[3, 3], spatial_scale=1.0), cvkernels.RoIAlign(3, 1.0, -1)):
        y = _script(module)(torch.rand(2, 1, 10, 10), [roi, roi])
        assert y.shape == (10, 1, 3, 3)


def test_fx_symbolic_trace_keeps_each_op_as_a_leaf():
    import torch.fx

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.align = cvkernels.RoIAlign(5, 1.0, -1)

        def forward(self, x, rois, boxes, scores):
            return self.align(x, rois), cvkernels.roi_pool(x, rois, 2), cvkernels.nms(boxes, scores, 0.5), \
                cvkernels.box_iou(boxes, boxes)

    m = M()
    gm = torch.fx.symbolic_trace(m)
    targets = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    assert targets == [cvkernels.roi_align, cvkernels.roi_pool, cvkernels.nms, cvkernels.box_iou]
    args = (torch.rand(2, 3, 10, 10), torch.tensor([[0, 0, 0, 9, 9], [1, 0, 5, 4, 9.]]), _boxes(20), torch.rand(20))
    _same(gm(*args), m(*args))
    # a module that is only RoIAlign: the traced graph is inputs, one op, output
    gm = torch.fx.symbolic_trace(cvkernels.RoIAlign(5, 1.0, -1))
    assert [n.op for n in gm.graph.nodes] == ["placeholder", "placeholder", "call_function", "output"]


def test_torch_compile_fullgraph():
    def f(x, rois, boxes, scores):
        return cvkernels.roi_align(x, rois, 2, 1.0, 2), cvkernels.nms(boxes, scores, 0.5), cvkernels.box_iou(boxes, boxes)

    args = (torch.rand(1, 3, 10, 10), torch.tensor([[0, 0, 0, 9, 9.]]), _boxes(20), torch.rand(20))
    _same(torch.compile(f, fullgraph=True, backend="eager")(*args), f(*args))


def test_errors_are_value_and_runtime_errors():
    with pytest.raises(RuntimeError) as err:
        cvkernels.nms(torch.zeros(3, 5), torch.zeros(3), 0.5)
    assert isinstance(err.value, ValueError) and isinstance(err.value, cvkernels.InputError)
    with pytest.raises(RuntimeError) as err:
        cvkernels.box_iou(torch.zeros(3, 4, dtype=torch.complex64), torch.zeros(3, 4))
    assert isinstance(err.value, TypeError) and isinstance(err.value, cvkernels.InputTypeError)
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
        cvkernels.generalized_box_iou_loss(_boxes(2), _boxes(2), reduction="bad")
    with pytest.raises(RuntimeError):  # numpy path too
        cvkernels.roi_align(__import__("numpy").zeros((1, 1, 4, 4), "float32"), [[0, 0, 0, 1]], 2)


def test_multiscale_roi_align_equals_torchvision():
    tv_ops = pytest.importorskip("torchvision.ops")
    names = ["feat1", "feat2", "feat3", "feat4"]
    x = {n: torch.rand(2, 8, 64 // 2**i, 48 // 2**i) for i, n in enumerate(names)}
    x["other"] = torch.rand(2, 8, 4, 4)
    g = torch.Generator().manual_seed(0)
    boxes = []
    for k in (30, 17):
        xy = torch.rand(k, 2, generator=g) * torch.tensor([150.0, 200.0])
        wh = torch.rand(k, 2, generator=g) ** 2 * 180 + 1
        boxes.append(torch.cat([xy, xy + wh], 1))
    shapes = [(256, 192), (250, 190)]
    for featmap_names in (names, ["feat2"], names[:3]):
        ours = cvkernels.MultiScaleRoIAlign(featmap_names, 7, 2)
        theirs = tv_ops.MultiScaleRoIAlign(featmap_names, 7, 2)
        torch.testing.assert_close(ours(x, boxes, shapes), theirs(x, boxes, shapes), rtol=0, atol=0)
        torch.testing.assert_close(_script(ours)(x, boxes, shapes), theirs(x, boxes, shapes), rtol=0, atol=0)


def test_top_level_modules():
    assert cvkernels.RoIAlign is cvkernels.nn.RoIAlign and cvkernels.RoIPool is cvkernels.nn.RoIPool
    assert cvkernels.MultiScaleRoIAlign is cvkernels.nn.MultiScaleRoIAlign
    assert repr(cvkernels.RoIAlign((5, 5), 1, -1)) == "RoIAlign(output_size=(5, 5), spatial_scale=1.0, sampling_ratio=-1, aligned=False)"


# --- patch_torchvision ---------------------------------------------------------------------

def test_patch_is_undoable_and_a_context_manager():
    tv = pytest.importorskip("torchvision")
    import torchvision.models.detection.roi_heads as roi_heads
    import torchvision.ops.poolers as poolers

    stock = (tv.ops.nms, tv.ops.boxes.batched_nms, poolers.roi_align, roi_heads.roi_align, tv.ops.RoIAlign)
    with cvkernels.patch_torchvision() as p:
        assert tv.ops.nms is cvkernels.nms and tv.ops.boxes.batched_nms is cvkernels.batched_nms
        assert poolers.roi_align is cvkernels.roi_align and roi_heads.roi_align is cvkernels.roi_align
        assert tv.ops.RoIAlign is cvkernels.RoIAlign and len(p.replaced) > 20
        with pytest.raises(RuntimeError, match="already patched"):
            cvkernels.patch_torchvision()
    assert (tv.ops.nms, tv.ops.boxes.batched_nms, poolers.roi_align, roi_heads.roi_align, tv.ops.RoIAlign) == stock
    p = cvkernels.patch_torchvision()
    p.undo()
    assert tv.ops.nms is stock[0]


def _images():
    g = torch.Generator().manual_seed(1)
    return [torch.rand(3, 200, 240, generator=g), torch.rand(3, 176, 224, generator=g)]


def _canonical(d):
    """The detections in (score desc, label, box) order: ties among equal scores may come in
    another order (cvkernels keeps the lower index first), the set must be the same."""
    import numpy as np

    keys = [d["boxes"][:, i].numpy() for i in (3, 2, 1, 0)] + [d["labels"].numpy(), -d["scores"].numpy()]
    order = torch.from_numpy(np.lexsort(keys))
    return {k: v[order] for k, v in d.items()}


def _same_detections(a, b):
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        x, y = _canonical(x), _canonical(y)
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=0, atol=0, msg=k)


def _model_case(name, **kwargs):
    tv = pytest.importorskip("torchvision")
    from torchvision.models import detection

    torch.manual_seed(0)
    model = getattr(detection, name)(weights=None, weights_backbone=None, **kwargs).eval()
    images = _images()
    with torch.no_grad():
        stock = model(images)
        with cvkernels.patch_torchvision():
            patched = model(images)
    assert tv.ops.nms is not cvkernels.nms
    assert sum(len(d["boxes"]) for d in stock) > 0  # detections to compare (random weights, no score threshold)
    _same_detections(stock, patched)


SMALL = {"min_size": 176, "max_size": 256}


def test_fasterrcnn_patched_equals_stock():
    _model_case("fasterrcnn_resnet50_fpn", box_score_thresh=0.0, **SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", [
    ("maskrcnn_resnet50_fpn", dict(box_score_thresh=0.0, **SMALL)),
    ("keypointrcnn_resnet50_fpn", dict(box_score_thresh=0.0, **SMALL)),
    ("retinanet_resnet50_fpn", dict(score_thresh=0.0, **SMALL)),
    ("fcos_resnet50_fpn", dict(score_thresh=0.0, **SMALL)),
    ("ssd300_vgg16", dict(score_thresh=0.0)),
])
def test_detection_models_patched_equal_stock(name, kwargs):
    _model_case(name, **kwargs)


# --- quantized tensors -----------------------------------------------------------------------

@pytest.mark.parametrize("scale,zero_point", [(1.0, 0), (0.5, 1), (0.2, 5)])
def test_quantized_nms(scale, zero_point):
    boxes = _boxes(200, 3) * 1.5
    scores = torch.rand(200, generator=torch.Generator().manual_seed(2)) * 100
    qb = torch.quantize_per_tensor(boxes, scale=scale, zero_point=zero_point, dtype=torch.quint8)
    qs = torch.quantize_per_tensor(scores, scale=scale, zero_point=zero_point, dtype=torch.quint8)
    for iou in (0.2, 0.5, 0.8):
        keep = cvkernels.nms(qb, qs, iou)
        torch.testing.assert_close(keep, cvkernels.nms(qb.dequantize(), qs.dequantize(), iou))
        tv_ops = pytest.importorskip("torchvision.ops")
        theirs = tv_ops.nms(qb, qs, iou)
        assert set(keep.tolist()) == set(theirs.tolist())  # ties among quantized scores: the same set


@pytest.mark.parametrize("qdtype", [torch.qint8, torch.quint8, torch.qint32])
@pytest.mark.parametrize("aligned", [False, True])
def test_quantized_roi_align(qdtype, aligned):
    x = torch.randint(50, 100, size=(1, 2, 10, 10), generator=torch.Generator().manual_seed(0)).float()
    rois = torch.tensor([[0, 0, 0, 9, 9], [0, 0, 5, 4, 9], [0, 5, 5, 9, 9], [0, 1, 2, 7, 8.]])
    for scale, zero_point in ((1, 0), (2, 10), (0.1, 50)):
        qx = torch.quantize_per_tensor(x, scale=scale, zero_point=zero_point, dtype=qdtype)
        qrois = torch.quantize_per_tensor(rois, scale=scale, zero_point=zero_point, dtype=qdtype)
        qy = cvkernels.roi_align(qx, qrois, 5, 1.0, -1, aligned)
        assert qy.is_quantized and qy.dtype == qdtype and qy.q_scale() == scale
        y = cvkernels.roi_align(qx.dequantize(), qrois.dequantize(), 5, 1.0, -1, aligned)
        assert torch.equal(qy.int_repr(), torch.quantize_per_tensor(y, scale, zero_point, qdtype).int_repr())
        tv_ops = pytest.importorskip("torchvision.ops")
        theirs = tv_ops.roi_align(qx, qrois, 5, 1.0, -1, aligned)
        diff = (qy.int_repr().int() - theirs.int_repr().int()).abs()
        assert diff.max() <= 1 and (diff > 0).float().mean() < 0.05  # rounding at .5 boundaries only
    with pytest.raises(RuntimeError, match="Only one image per batch"):
        cvkernels.roi_align(torch.cat([qx, qx]), qrois, 5)


def _pyramid(dtype=torch.float64, channels_last=False):
    g = torch.Generator().manual_seed(3)
    feats = [torch.rand(2, 3, 16 // 2**i, 12 // 2**i, generator=g, dtype=dtype) for i in range(3)]
    if channels_last:
        feats = [f.contiguous(memory_format=torch.channels_last) for f in feats]
    rois = torch.cat([torch.randint(0, 2, (9, 1), generator=g).to(dtype), _boxes(9, 4, dtype) * 0.8], 1)
    levels = torch.randint(0, 3, (9,), generator=g)
    return feats, rois, levels, [1.0, 0.5, 0.25]


@pytest.mark.parametrize("channels_last", [False, True])
def test_multi_scale_op_equals_per_level_roi_align_and_its_gradient(channels_last):
    feats, rois, levels, scales = _pyramid(channels_last=channels_last)
    feats = [f.requires_grad_() for f in feats]
    out = torch.ops.cvkernels.multi_scale_roi_align(feats, rois, levels, scales, 3, 2, 2, True)
    for lv in range(3):
        rows = levels == lv
        torch.testing.assert_close(out[rows], cvkernels.roi_align(feats[lv], rois[rows], (3, 2), scales[lv], 2, True),
                                   rtol=0, atol=0)
    assert torch.autograd.gradcheck(
        lambda *fs: torch.ops.cvkernels.multi_scale_roi_align(list(fs), rois, levels, scales, 3, 2, 2, True),
        tuple(feats), atol=1e-6)
    torch.library.opcheck(torch.ops.cvkernels.multi_scale_roi_align.default,
                          ([f.detach() for f in feats], rois, levels, scales, 3, 2, 2, True))


def test_multi_scale_op_bad_levels_and_rows():
    feats, rois, levels, scales = _pyramid()
    with pytest.raises(ValueError, match="levels must lie in"):
        torch.ops.cvkernels.multi_scale_roi_align(feats, rois, levels + 5, scales, 3, 3, 2, False)
    with pytest.raises(ValueError, match="one scale per feature level"):
        torch.ops.cvkernels.multi_scale_roi_align(feats, rois, levels, scales[:2], 3, 3, 2, False)
    out = torch.empty(2, 3, 2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="out_rows must lie in"):
        cvkernels._C.roi_align_forward(feats[0].numpy(), False, rois.numpy(), out.numpy(), 1.0, 2, False, 0,
                                       torch.arange(9).numpy())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_multi_scale_op_cuda_matches_cpu():
    feats, rois, levels, scales = _pyramid(torch.float32)
    cpu = torch.ops.cvkernels.multi_scale_roi_align(feats, rois, levels, scales, 3, 2, 2, True)
    cuda = torch.ops.cvkernels.multi_scale_roi_align([f.cuda() for f in feats], rois.cuda(), levels.cuda(), scales,
                                                     3, 2, 2, True)
    torch.testing.assert_close(cuda.cpu(), cpu, rtol=1e-5, atol=1e-6)


def test_torchvision_style_checks():
    # malformed RoI boxes also raise AssertionError (torchvision's check); empty boxes with None
    # for the rest give an empty int64 tensor
    x = torch.rand(1, 1, 8, 8)
    for fn in (cvkernels.roi_align, cvkernels.roi_pool):
        with pytest.raises(AssertionError):
            fn(x, torch.tensor([[0, 0, 3, 3.]]), output_size=(2, 2))
        with pytest.raises(AssertionError):
            fn(x, [torch.tensor([[0, 0, 3.]])], output_size=(2, 2))
    empty = torch.empty((0,), dtype=torch.int64)
    torch.testing.assert_close(cvkernels.batched_nms(empty, None, None, None), empty)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_rotated_box_convert_equals_torchvision(dtype):
    tv_ops = pytest.importorskip("torchvision.ops")
    g = torch.Generator().manual_seed(0)
    cxcywhr = torch.cat([torch.rand(20, 2, generator=g) * 100, torch.rand(20, 2, generator=g) * 40 + 1,
                         torch.rand(20, 1, generator=g) * 360 - 180], 1)
    start = {"cxcywhr": cxcywhr, "xywhr": tv_ops.box_convert(cxcywhr, "cxcywhr", "xywhr"),
             "xyxyxyxy": tv_ops.box_convert(cxcywhr, "cxcywhr", "xyxyxyxy")}
    fmts = list(start)
    for a in fmts:
        for b in fmts:
            x = start[a].to(dtype)
            theirs = tv_ops.box_convert(x, a, b)
            torch.testing.assert_close(cvkernels.box_convert(x, a, b), theirs, rtol=0, atol=0)
            torch.testing.assert_close(_script(cvkernels.box_convert)(x, a, b), theirs, rtol=0, atol=0)
            ours_np = cvkernels.box_convert(x.numpy(), a, b)
            assert ours_np.dtype == x.numpy().dtype
            # numpy's sin / cos / arctan2 may differ from torch's in the last bit (for integer
            # boxes, a value at .5 may then round the other way)
            atol = 1.0 if not dtype.is_floating_point else 1e-3
            torch.testing.assert_close(torch.from_numpy(ours_np).double(), theirs.double(), rtol=1e-5, atol=atol)
    with pytest.raises(ValueError, match="rotated and an axis-aligned"):
        cvkernels.box_convert(start["xywhr"], "xywhr", "xyxy")


@pytest.mark.filterwarnings("ignore:RCNN always returns:UserWarning")
def test_scripted_fasterrcnn_patched_equals_scripted_stock():
    # torch.jit.script of torchvision's model with cvkernels patched in runs cvkernels' ops (the
    # scripted code calls them) and gives stock TorchScript's detections (torchvision's scripted
    # resize differs from its eager one, so the comparison is script against script)
    pytest.importorskip("torchvision")
    from torchvision.models import detection

    torch.manual_seed(0)
    model = detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, box_score_thresh=0.0,
                                              **SMALL).eval()
    images = _images()
    with torch.no_grad():
        stock = _script(model)(images)[1]
        with cvkernels.patch_torchvision():
            scripted = _script(model)
            patched = scripted(images)[1]
    assert "cvkernels" in scripted.roi_heads.postprocess_detections.code
    _same_detections(stock, patched)
