"""heatmap_peaks: against CenterNet's torch expression (max_pool2d suppression, two topk
calls, gathers; written out here) on continuous heatmaps, and against the numpy reference where
values tie (plateaus, fewer peaks than K, negative heat); both dtypes, with and without the
offset map, other kernels, numpy inputs, opcheck, TorchScript, bad input."""

import numpy as np
import pytest

import cvkernels
from cvkernels import reference

torch = pytest.importorskip("torch")


def _centernet(heat, wh, reg, K, kernel=3):
    """CenterNet's ctdet_decode (its _nms, _topk and _transpose_and_gather_feat)."""
    import torch.nn.functional as F

    B, C, H, W = heat.shape
    hmax = F.max_pool2d(heat, (kernel, kernel), stride=1, padding=(kernel - 1) // 2)
    heat = heat * (hmax == heat).to(heat.dtype)
    topk_scores, topk_inds = torch.topk(heat.view(B, C, -1), K)
    topk_inds = topk_inds % (H * W)
    topk_ys = (topk_inds // W).to(heat.dtype)
    topk_xs = (topk_inds % W).to(heat.dtype)
    scores, ind = torch.topk(topk_scores.view(B, -1), K)
    clses = ind // K
    inds = topk_inds.view(B, -1).gather(1, ind)
    ys = topk_ys.view(B, -1).gather(1, ind)
    xs = topk_xs.view(B, -1).gather(1, ind)

    def gather(m):  # (B, 2, H, W) -> (B, K, 2) at inds
        return m.view(B, 2, -1).permute(0, 2, 1).gather(1, inds.unsqueeze(2).expand(B, K, 2))

    if reg is not None:
        r = gather(reg)
        xs, ys = xs + r[..., 0], ys + r[..., 1]
    else:
        xs, ys = xs + 0.5, ys + 0.5
    w = gather(wh)
    boxes = torch.stack([xs - w[..., 0] / 2, ys - w[..., 1] / 2, xs + w[..., 0] / 2, ys + w[..., 1] / 2], -1)
    return boxes, scores, clses, inds


def _maps(B, C, H, W, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    heat = torch.rand(B, C, H, W, generator=g, dtype=dtype)
    wh = torch.rand(B, 2, H, W, generator=g, dtype=dtype) * 20
    reg = torch.rand(B, 2, H, W, generator=g, dtype=dtype)
    return heat, wh, reg


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("with_reg", [True, False])
@pytest.mark.parametrize("shape,K", [((2, 80, 32, 40), 100), ((1, 3, 7, 5), 10), ((3, 1, 16, 16), 5)])
def test_equals_centernet(dtype, with_reg, shape, K):
    heat, wh, reg = _maps(*shape, dtype=dtype, seed=shape[1])
    r = reg if with_reg else None
    got = cvkernels.heatmap_peaks(heat, wh, r, K=K)
    want = _centernet(heat, wh, r, K)
    for a, b, name in zip(got, want, ("boxes", "scores", "classes", "inds")):
        assert a.dtype == b.dtype, name
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_ties_and_few_peaks_equal_the_reference(kernel):
    g = torch.Generator().manual_seed(kernel)
    heat = (torch.rand(2, 4, 9, 11, generator=g) * 4).floor() / 4  # plateaus and zeros
    heat[1] = 0.0  # an image without peaks: zeros in (class, y, x) order
    heat[0, 2] = -heat[0, 2] - 0.1  # negative peaks come after the zeros
    wh = torch.rand(2, 2, 9, 11, generator=g) * 5
    for K in (0, 7, 60, 4 * 9 * 11):
        got = cvkernels.heatmap_peaks(heat, wh, K=K, kernel=kernel)
        want = reference.decode.heatmap_peaks(heat.numpy(), wh.numpy(), None, K, kernel)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a.numpy(), b)


def test_numpy_opcheck_script_and_bad_input():
    heat, wh, reg = _maps(2, 5, 12, 10)
    got = cvkernels.heatmap_peaks(heat.numpy(), wh.numpy(), reg.numpy(), K=20)
    for a, b in zip(got, cvkernels.heatmap_peaks(heat, wh, reg, K=20)):
        np.testing.assert_array_equal(a, b.numpy())
    torch.library.opcheck(torch.ops.cvkernels.heatmap_peaks, (heat, wh, reg, 20, 3))
    torch.library.opcheck(torch.ops.cvkernels.heatmap_peaks, (heat.double(), wh.double(), None, 7, 3))
    with pytest.raises(ValueError, match=r"K must be in \[0, C \* H \* W\]"):
        cvkernels.heatmap_peaks(heat, wh, K=5 * 12 * 10 + 1)
    with pytest.raises(ValueError, match=r"wh must be \(B, 2, H, W\)"):
        cvkernels.heatmap_peaks(heat, wh[:, :1])
    with pytest.raises(ValueError, match="kernel must be a positive odd"):
        cvkernels.heatmap_peaks(heat, wh, kernel=2)
    with pytest.raises(ValueError, match=r"heat must be \(B, C, H, W\)"):
        cvkernels.heatmap_peaks(heat[0], wh)
    bad = heat.clone()
    bad[1, 2, 3, 4] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        cvkernels.heatmap_peaks(bad, wh)
    with pytest.raises(TypeError, match="floating-point"):
        cvkernels.heatmap_peaks(torch.ones(1, 1, 2, 2, dtype=torch.int64), torch.ones(1, 2, 2, 2, dtype=torch.int64), K=1)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script's deprecation notice
def test_script():
    heat, wh, reg = _maps(1, 4, 8, 8)
    scripted = torch.jit.script(cvkernels.heatmap_peaks)
    for a, b in zip(scripted(heat, wh, reg, 10, 3), cvkernels.heatmap_peaks(heat, wh, reg, K=10)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


# --- box coding, decode_topk, anchor_grid: against torchvision ------------------------------------

try:
    import torchvision
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import AnchorGenerator
except ImportError:  # pragma: no cover
    torchvision = None
requires_torchvision = pytest.mark.skipif(torchvision is None, reason="torchvision is not installed")


def _boxes(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=dtype) * 500
    wh = torch.rand(n, 2, generator=g, dtype=dtype) * 200 + 1
    return torch.cat([xy, xy + wh], 1)


@requires_torchvision
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_box_coding_equals_torchvision(dtype, weights):
    coder = det_utils.BoxCoder(weights)
    anchors, gt = _boxes(3000, 1, dtype), _boxes(3000, 2, dtype)
    codes = torch.randn(3000, 4, generator=torch.Generator().manual_seed(3), dtype=dtype) * 2
    codes[:5, 2:] = 10.0  # beyond bbox_xform_clip
    tol = dict(rtol=2e-6, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-13, atol=1e-10)
    torch.testing.assert_close(cvkernels.decode_boxes(codes, anchors, weights), coder.decode_single(codes, anchors), **tol)
    codes_k = torch.cat([codes, codes.flip(0)], 1)  # K = 2 boxes per reference
    torch.testing.assert_close(cvkernels.decode_boxes(codes_k, anchors, weights), coder.decode_single(codes_k, anchors),
                               **tol)
    torch.testing.assert_close(cvkernels.encode_boxes(gt, anchors, weights), coder.encode_single(gt, anchors), **tol)
    np.testing.assert_allclose(cvkernels.encode_boxes(gt.numpy(), anchors.numpy(), weights),
                               coder.encode_single(gt, anchors).numpy(), rtol=tol["rtol"], atol=tol["atol"])
    # the gradient with respect to the codes, as torchvision's autograd gives it
    ca, cb = codes.clone().requires_grad_(), codes.clone().requires_grad_()
    go = torch.randn(3000, 4, dtype=dtype)
    (cvkernels.decode_boxes(ca, anchors, weights) * go).sum().backward()
    (coder.decode_single(cb, anchors) * go).sum().backward()
    torch.testing.assert_close(ca.grad, cb.grad, **tol)


def test_decode_gradcheck_and_opcheck():
    anchors = _boxes(6, 4, torch.float64)
    codes = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert torch.autograd.gradcheck(lambda c: cvkernels.decode_boxes(c, anchors, (2.0, 1.0, 3.0, 0.5)),
                                    (codes.clone().requires_grad_(),))
    torch.library.opcheck(torch.ops.cvkernels.decode_boxes, (codes.clone().requires_grad_(), anchors, [1.0] * 4, 4.1))
    torch.library.opcheck(torch.ops.cvkernels.encode_boxes, (anchors.flip(0), anchors, [1.0, 2.0, 1.0, 2.0]))
    logits = torch.randn(6, 3, dtype=torch.float64)
    torch.library.opcheck(torch.ops.cvkernels.decode_topk, (logits, codes, anchors, 0.3, 4, [1.0] * 4, 4.1, [100.0, 90.0]))


def _torchvision_level(logits, regression, anchors, score_thresh, topk, image_size):
    """torchvision's RetinaNet.postprocess_detections, one level of one image."""
    coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
    num_classes = logits.shape[-1]
    scores = torch.sigmoid(logits).flatten()
    keep = scores > score_thresh
    scores = scores[keep]
    topk_idxs = torch.where(keep)[0]
    num_topk = det_utils._topk_min(topk_idxs, topk, 0)
    scores, idxs = scores.topk(num_topk)
    topk_idxs = topk_idxs[idxs]
    anchor_idxs = torch.div(topk_idxs, num_classes, rounding_mode="floor")
    labels = topk_idxs % num_classes
    boxes = coder.decode_single(regression[anchor_idxs], anchors[anchor_idxs])
    boxes = torchvision.ops.clip_boxes_to_image(boxes, image_size)
    return boxes, scores, labels, anchor_idxs


@requires_torchvision
@pytest.mark.parametrize("n,C,thresh,topk", [(5000, 91, 0.05, 1000), (300, 5, 0.5, 10000), (40, 3, 0.999, 7)])
def test_decode_topk_equals_retinanet(n, C, thresh, topk):
    g = torch.Generator().manual_seed(n)
    logits = torch.randn(n, C, generator=g) * 2 - 3
    regression = torch.randn(n, 4, generator=g)
    anchors = _boxes(n, n + 1)
    got = cvkernels.decode_topk(logits, regression, anchors, thresh, topk, image_size=(480, 640))
    want = _torchvision_level(logits, regression, anchors, thresh, topk, (480, 640))
    assert len(got[0]) == len(want[0])
    torch.testing.assert_close(got[1], want[1], rtol=2e-7, atol=0)  # sigmoid: exp's last bit
    for a, b in zip(got[2:], want[2:]):
        assert torch.equal(a, b)
    torch.testing.assert_close(got[0], want[0], rtol=2e-6, atol=1e-4)
    for a, b in zip(cvkernels.decode_topk(logits.numpy(), regression.numpy(), anchors.numpy(), thresh, topk,
                                          image_size=(480, 640)), got):
        np.testing.assert_array_equal(a, b.numpy())
    empty = cvkernels.decode_topk(logits[:0], regression[:0], anchors[:0], thresh, topk)
    assert [tuple(e.shape) for e in empty] == [(0, 4), (0,), (0,), (0,)]


@requires_torchvision
@pytest.mark.parametrize("sizes,ratios", [(((32,), (64,), (128,)), ((0.5, 1.0, 2.0),) * 3),
                                          (((16, 24, 40), (90,)), ((0.33, 1.7), (1.0,)))])
def test_anchor_grid_equals_anchor_generator(sizes, ratios):
    from torchvision.models.detection.image_list import ImageList

    feats = [torch.zeros(1, 1, 25 // (2 ** i) + 1, 33 // (2 ** i) + 1) for i in range(len(sizes))]
    images = ImageList(torch.zeros(1, 3, 200, 264), [(200, 264)])
    want = AnchorGenerator(sizes, ratios)(images, feats)[0]
    got = cvkernels.anchor_grid((200, 264), [tuple(f.shape[-2:]) for f in feats], sizes, ratios, device="cpu")
    assert torch.equal(got, want)
    with pytest.raises(ValueError, match="one entry per level"):
        cvkernels.anchor_grid((200, 264), [(5, 5)], sizes, ratios)


def test_box_coding_bad_input():
    with pytest.raises(ValueError, match="weights must be 4 numbers"):
        cvkernels.decode_boxes(np.zeros((2, 4)), np.zeros((2, 4)), (1.0, 1.0))
    with pytest.raises(ValueError, match="must have the same N"):
        cvkernels.encode_boxes(np.zeros((2, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"box_regression must have shape \(N, 4\)"):
        cvkernels.decode_topk(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="topk must be >= 0"):
        cvkernels.decode_topk(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), topk=-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("topk", [1, 7, 300, 4000, 100000])
def test_decode_topk_order_with_ties_and_saturation(dtype, topk):
    """The kept set and order are (sigmoid score descending, flat index), exactly: logits rounded
    into ties, and large logits whose sigmoids round to 1 (equal scores from unequal logits)."""
    rng = np.random.default_rng(4)
    logits = np.round(rng.normal(-1, 3, (30000, 7)), 1)  # several 65,536-logit chunks
    logits[rng.random(logits.shape) < 0.02] = rng.uniform(16, 40, 1)  # saturated: sigmoid == 1
    logits = logits.astype(dtype)
    anchors = np.tile(np.array([[0, 0, 10, 10]], dtype), (30000, 1))
    _, scores, labels, idx = cvkernels.decode_topk(logits, np.zeros((30000, 4), dtype), anchors, 0.3, topk)
    s = (1 / (1 + np.exp(-logits.astype(np.float64)))).astype(dtype) if dtype == np.float64 else \
        (np.float32(1) / (np.float32(1) + np.exp(-logits))).astype(np.float32)
    flat = s.reshape(-1)
    keep = np.flatnonzero(flat > dtype(0.3))
    order = keep[np.lexsort((keep, -flat[keep]))][:topk]
    np.testing.assert_array_equal(idx * 7 + labels, order)
    np.testing.assert_allclose(scores, flat[order], rtol=1e-6)  # (numpy's exp and the C library's may differ by an ulp)


# --- YOLO ----------------------------------------------------------------------------------------

def _yolov5_torch(pred, anchors, stride, conf_thres, version):
    """ultralytics' YOLOv5 Detect decoding of one level (its grid - 0.5 and anchor_grid in
    pixels) and non_max_suppression's candidates (obj > conf, cls *= obj, best class > conf),
    in torch, sorted by score."""
    import torch

    A, H, W, no = pred.shape
    yv, xv = torch.meshgrid(torch.arange(H, dtype=pred.dtype), torch.arange(W, dtype=pred.dtype), indexing="ij")
    y = pred.sigmoid()
    if version == "v5":
        grid = torch.stack((xv, yv), 2).expand(A, H, W, 2) - 0.5
        xy = (y[..., :2] * 2 + grid) * stride
        wh = (y[..., 2:4] * 2) ** 2 * anchors.view(A, 1, 1, 2)
    else:
        grid = torch.stack((xv, yv), 2).expand(A, H, W, 2)
        xy = (y[..., :2] + grid) * stride
        wh = torch.exp(pred[..., 2:4]) * anchors.view(A, 1, 1, 2)
    x = torch.cat((xy, wh, y[..., 4:]), -1).view(-1, no)
    cells = torch.arange(x.shape[0])
    keep = x[:, 4] > conf_thres
    x, cells = x[keep], cells[keep]
    x[:, 5:] *= x[:, 4:5]
    conf, j = x[:, 5:].max(1)
    keep = conf > conf_thres
    x, conf, j, cells = x[keep], conf[keep], j[keep], cells[keep]
    box = torch.cat((x[:, :2] - x[:, 2:4] / 2, x[:, :2] + x[:, 2:4] / 2), 1)
    order = torch.argsort(-conf, stable=True)
    return box[order], conf[order], j[order], cells[order]


@pytest.mark.parametrize("version", ["v5", "v3"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("conf", [0.001, 0.25, 0.6])
def test_decode_yolo_equals_the_reference(version, dtype, conf):
    rng = np.random.default_rng(3)
    pred = (rng.normal(0, 2, (3, 5, 6, 9)) + [0, 0, 0, 0, 1, 0, 0, 0, 0]).astype(dtype)
    anchors = np.array([[10, 13], [16, 30], [33, 23]], dtype)
    for topk in (0, 4, 1000):
        got = cvkernels.decode_yolo(pred, anchors, 8.0, conf, topk, version)
        want = reference.decode.decode_yolo(pred, anchors, 8.0, conf, topk, version)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got[0], want[0].reshape(-1, 4), rtol=tol, atol=tol * 100)
        np.testing.assert_allclose(got[1], want[1], rtol=tol)
        np.testing.assert_array_equal(got[2], want[2])
        np.testing.assert_array_equal(got[3], want[3])
        assert got[0].dtype == dtype and got[2].dtype == np.int64


@pytest.mark.parametrize("version", ["v5", "v3"])
def test_decode_yolo_equals_yolov5s_torch_expression(version):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(3, 20, 20, 85, generator=g) * 2
    pred[..., 4] -= 2
    anchors = torch.tensor([[30.0, 61], [62, 45], [59, 119]])  # YOLOv5's P4/16 anchors, in pixels
    boxes, scores, labels, idx = cvkernels.decode_yolo(pred, anchors, 16.0, 0.25, 30000, version)
    wb, ws, wl, wi = _yolov5_torch(pred, anchors, 16.0, 0.25, version)
    assert idx.tolist() == wi.tolist() and labels.tolist() == wl.tolist()
    torch.testing.assert_close(scores, ws, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(boxes, wb, rtol=1e-5, atol=1e-4)
    torch.library.opcheck(torch.ops.cvkernels.decode_yolo, (pred[:, :6, :5], anchors, 16.0, 0.25, 50, version))
    # the numpy path gives the same
    nb, ns, nl, ni = cvkernels.decode_yolo(pred.numpy(), anchors.numpy(), 16.0, 0.25, 30000, version)
    np.testing.assert_array_equal(ni, idx.numpy())
    np.testing.assert_allclose(nb, boxes.numpy(), rtol=1e-6)


@pytest.mark.parametrize("topk", [100, 5000])
def test_decode_yolo_many_candidates_with_ties(topk):
    # more than 2048 candidates (the radix-sorted path) and scores rounded into ties
    q = np.round(np.random.default_rng(1).normal(0, 1, (3, 30, 30, 8)), 1).astype(np.float32)
    anchors = np.array([[10, 13], [16, 30], [33, 23]], np.float32)
    got = cvkernels.decode_yolo(q, anchors, 8.0, 0.001, topk)
    want = reference.decode.decode_yolo(q, anchors, 8.0, 0.001, topk)
    assert len(got[3]) == min(topk, 2700) > 0
    np.testing.assert_array_equal(got[3], want[3])
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-3)


def test_decode_yolo_edges_and_bad_input():
    # saturated class scores tie: the first wins (torch's max); a NaN class logit drops the cell
    p = np.full((1, 1, 2, 10), -9.0, np.float32)
    p[0, 0, 0, 4:] = [9, 3, 40, 50, 40, 1]
    p[0, 0, 1, 4:] = [9, 3, np.nan, 5, 1, 1]
    _, scores, labels, idx = cvkernels.decode_yolo(p, np.ones((1, 2), np.float32), 8.0)
    assert labels.tolist() == [1] and idx.tolist() == [0]
    anchors = np.ones((2, 2), np.float32)
    none = cvkernels.decode_yolo(np.full((2, 3, 3, 7), -20, np.float32), anchors, 8.0)
    assert none[0].shape == (0, 4) and none[3].shape == (0,)
    empty = cvkernels.decode_yolo(np.zeros((2, 0, 3, 7), np.float32), anchors, 8.0)
    assert empty[0].shape == (0, 4)
    with pytest.raises(ValueError, match="version"):
        cvkernels.decode_yolo(np.zeros((2, 3, 3, 7), np.float32), anchors, 8.0, version="v8")
    with pytest.raises(ValueError, match="5 \\+ C"):
        cvkernels.decode_yolo(np.zeros((2, 3, 3, 5), np.float32), anchors, 8.0)
    with pytest.raises(ValueError, match="anchors"):
        cvkernels.decode_yolo(np.zeros((3, 3, 3, 7), np.float32), anchors, 8.0)
    with pytest.raises(ValueError, match="stride"):
        cvkernels.decode_yolo(np.zeros((2, 3, 3, 7), np.float32), anchors, 0.0)
    with pytest.raises(TypeError):
        cvkernels.decode_yolo(np.zeros((2, 3, 3, 7), np.int64), anchors, 8.0)
