"""Box IoU family, box_area, box_convert and the paired losses: against the numpy reference,
against torchvision when it is installed, edge cases, dtypes, layouts, errors, opcheck and
gradcheck."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cvkernels
from cvkernels import reference as ref
from conftest import random_boxes, requires_cuda, requires_torch, torch

try:
    import torchvision.ops as tvops
except Exception:  # noqa: BLE001  (absent, or broken against this torch)
    tvops = None
requires_tv = pytest.mark.skipif(tvops is None, reason="torchvision is not installed")

PAIRWISE = ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"]
LOSSES = {"generalized_box_iou_loss": "giou", "distance_box_iou_loss": "diou", "complete_box_iou_loss": "ciou"}
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def ours(name):
    return getattr(cvkernels, name)


def theirs(name):
    return getattr(ref, name)


# --- values against the reference ----------------------------------------------------------

@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(37, 53), (1, 1), (1, 17), (300, 9)])
def test_pairwise_matches_reference(rng, name, dtype, shape):
    a = random_boxes(rng, shape[0], dtype=dtype)
    b = random_boxes(rng, shape[1], dtype=dtype)
    got = ours(name)(a, b)
    assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, theirs(name)(a, b), **TOL[dtype])


@pytest.mark.parametrize("name", PAIRWISE)
def test_batched_equals_per_image(rng, name):
    a = random_boxes(rng, 20, batch=5)
    b = random_boxes(rng, 7, batch=5)
    got = ours(name)(a, b)
    assert got.shape == (5, 20, 7)
    for i in range(5):
        np.testing.assert_array_equal(got[i], ours(name)(a[i], b[i]))
    np.testing.assert_allclose(got, theirs(name)(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", PAIRWISE)
def test_simd_and_threads_do_not_change_bits(rng, name):
    a = random_boxes(rng, 301, dtype=np.float32)
    b = random_boxes(rng, 517, dtype=np.float32)
    cvkernels.set_num_threads(2)
    fast = ours(name)(a, b)
    cvkernels._C.set_simd_enabled(False)
    cvkernels.set_num_threads(1)
    slow = ours(name)(a, b)
    np.testing.assert_array_equal(fast, slow)


def test_iou_known_values():
    a = np.array([[0, 0, 2, 2]], dtype=np.float64)
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [2, 2, 3, 3], [0, 0, 1, 1]], dtype=np.float64)
    np.testing.assert_allclose(cvkernels.box_iou(a, b), [[1 / 7, 1, 0, 0.25]])
    # GIoU of disjoint boxes (2,2)-(3,3) vs (0,0)-(2,2): enclosing area 9, union 5.
    np.testing.assert_allclose(cvkernels.generalized_box_iou(a, b)[0, 2], 0 - (9 - 5) / 9)
    np.testing.assert_allclose(cvkernels.distance_box_iou(a, a, eps=0.0), [[1.0]])


@pytest.mark.parametrize("name", PAIRWISE)
def test_empty_inputs(name):
    e = np.zeros((0, 4), np.float32)
    one = np.array([[0, 0, 1, 1]], np.float32)
    assert ours(name)(e, one).shape == (0, 1)
    assert ours(name)(one, e).shape == (1, 0)
    assert ours(name)(e, e).shape == (0, 0)
    assert ours(name)(np.zeros((3, 0, 4)), np.zeros((3, 2, 4))).shape == (3, 0, 2)
    assert ours(name)(np.zeros((0, 5, 4)), np.zeros((0, 2, 4))).shape == (0, 5, 2)


def test_degenerate_boxes_give_zero_not_nan():
    point = np.array([[1, 1, 1, 1]], np.float32)
    line = np.array([[0, 0, 5, 0]], np.float32)
    for name in PAIRWISE:
        for a, b in [(point, point), (point, line), (line, line)]:
            got = ours(name)(a, b)
            assert np.isfinite(got).all(), (name, a, b, got)
            np.testing.assert_allclose(got, theirs(name)(a, b), atol=1e-6)
    assert cvkernels.box_iou(point, point)[0, 0] == 0
    assert cvkernels.generalized_box_iou(point, point)[0, 0] == 0


def test_nan_propagates():
    a = np.array([[0, 0, 2, 2], [np.nan, 0, 1, 1]], np.float32)
    b = np.array([[1, 1, 3, 3], [0, 0, np.nan, 1]], np.float32)
    for name in PAIRWISE:
        got = ours(name)(a, b)
        assert np.isfinite(got[0, 0])
        assert np.isnan(got[0, 1]) and np.isnan(got[1, 0]) and np.isnan(got[1, 1]), name


@pytest.mark.parametrize("name", PAIRWISE)
def test_huge_coordinates(rng, name):
    a = random_boxes(rng, 30, scale=1e6)
    b = random_boxes(rng, 20, scale=1e6)
    np.testing.assert_allclose(ours(name)(a, b), theirs(name)(a, b), rtol=1e-9, atol=1e-9)
    got32 = ours(name)(a.astype(np.float32), b.astype(np.float32))
    np.testing.assert_allclose(got32, theirs(name)(a, b), rtol=1e-3, atol=1e-3)


def test_integer_and_half_numpy(rng):
    a = np.array([[0, 0, 2, 2]], np.int64)
    b = np.array([[1, 1, 3, 3]], np.int32)
    got = cvkernels.box_iou(a, b)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [[1 / 7]])
    h = random_boxes(rng, 10, dtype=np.float16)
    got = cvkernels.box_iou(h, h)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref.box_iou(h, h), rtol=1e-5, atol=1e-6)


def test_box_area_and_convert(rng):
    b = random_boxes(rng, 50)
    np.testing.assert_allclose(cvkernels.box_area(b), ref.box_area(b), rtol=1e-14)
    np.testing.assert_array_equal(cvkernels.box_area(b.reshape(5, 10, 4)), cvkernels.box_area(b).reshape(5, 10))
    assert cvkernels.box_area(np.array([[0, 0, 2, 3]])).dtype.kind == "i"
    for f in ("xyxy", "xywh", "cxcywh"):
        for t in ("xyxy", "xywh", "cxcywh"):
            got = cvkernels.box_convert(b, f, t)
            np.testing.assert_allclose(got, ref.box_convert(b, f, t), rtol=1e-12, atol=1e-12)
            back = cvkernels.box_convert(got, t, f)
            np.testing.assert_allclose(back, b, rtol=1e-9, atol=1e-9)
    assert cvkernels.box_convert(np.zeros((0, 4), np.float32), "xyxy", "cxcywh").shape == (0, 4)


@pytest.mark.parametrize("name,kind", list(LOSSES.items()))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_losses_match_reference(rng, name, kind, reduction):
    a = random_boxes(rng, 64)
    b = random_boxes(rng, 64)
    got = ours(name)(a, b, reduction=reduction)
    np.testing.assert_allclose(got, ref.box_iou_loss(kind, a, b, reduction), rtol=1e-12, atol=1e-12)
    # broadcasting one target against many predictions
    got = ours(name)(a, b[:1])
    np.testing.assert_allclose(got, ref.box_iou_loss(kind, a, np.broadcast_to(b[:1], a.shape)), rtol=1e-12)
    assert ours(name)(np.zeros((0, 4)), np.zeros((0, 4)), reduction="mean") == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(*[st.floats(-50, 50, allow_nan=False)] * 2, *[st.floats(0, 30)] * 2), min_size=1, max_size=12),
    st.lists(st.tuples(*[st.floats(-50, 50, allow_nan=False)] * 2, *[st.floats(0, 30)] * 2), min_size=1, max_size=12),
)
def test_iou_properties(xs, ys):
    def to_boxes(t):
        b = np.array(t, dtype=np.float64)
        return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)

    a, b = to_boxes(xs), to_boxes(ys)
    iou = cvkernels.box_iou(a, b)
    assert ((iou >= 0) & (iou <= 1)).all()
    np.testing.assert_array_equal(iou, cvkernels.box_iou(b, a).T)
    giou = cvkernels.generalized_box_iou(a, b)
    assert ((giou >= -1 - 1e-12) & (giou <= iou + 1e-12)).all()
    for name in PAIRWISE:
        np.testing.assert_allclose(ours(name)(a, b), theirs(name)(a, b), rtol=1e-9, atol=1e-9)
    self_iou = np.diag(cvkernels.box_iou(a, a))
    area = ref.box_area(a)
    np.testing.assert_allclose(self_iou[area > 0], 1.0)


# --- errors --------------------------------------------------------------------------------

def test_bad_inputs_raise_clear_errors():
    good = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="boxes1 must have shape"):
        cvkernels.box_iou(np.zeros((3, 5)), good)
    with pytest.raises(ValueError, match="boxes2 must have shape"):
        cvkernels.box_iou(good, np.zeros(4))
    with pytest.raises(ValueError, match="both"):
        cvkernels.box_iou(good, np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="batch size"):
        cvkernels.box_iou(np.zeros((2, 3, 4)), np.zeros((3, 3, 4)))
    with pytest.raises(TypeError, match="boxes1"):
        cvkernels.box_iou(np.zeros((3, 4), np.complex64), good)
    with pytest.raises(TypeError, match="boxes2"):
        cvkernels.box_iou(good, np.array([["a"] * 4]))
    with pytest.raises(TypeError, match="eps"):
        cvkernels.distance_box_iou(good, good, eps="x")
    with pytest.raises(ValueError, match="reduction"):
        cvkernels.generalized_box_iou_loss(good, good, reduction="avg")
    with pytest.raises(ValueError, match="broadcast"):
        cvkernels.complete_box_iou_loss(good, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="in_fmt"):
        cvkernels.box_convert(good, "xyx", "xyxy")
    with pytest.raises(ValueError, match="boxes must have shape"):
        cvkernels.box_area(np.zeros((2, 3)))


# --- torch ---------------------------------------------------------------------------------

def t(x, dtype=None):
    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype or torch.float32)


@requires_torch
@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_matches_numpy(rng, name, dtype):
    a = random_boxes(rng, 40, dtype=np.dtype(dtype))
    b = random_boxes(rng, 30, dtype=np.dtype(dtype))
    got = ours(name)(torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(got, torch.Tensor) and got.dtype == getattr(torch, dtype)
    np.testing.assert_array_equal(got.numpy(), ours(name)(a, b))
    np.testing.assert_array_equal(getattr(torch.ops.cvkernels, name)(torch.from_numpy(a), torch.from_numpy(b)).numpy(), got.numpy())


@requires_torch
def test_torch_noncontiguous_and_mixed_inputs(rng):
    a = random_boxes(rng, 40)
    b = random_boxes(rng, 30)
    # a transposed (4, N) storage viewed as (N, 4), and a strided slice
    at = torch.from_numpy(a.T.copy()).t()
    bt = torch.from_numpy(np.repeat(b, 2, axis=0))[::2]
    assert not at.is_contiguous() and not bt.is_contiguous()
    for name in PAIRWISE:
        np.testing.assert_array_equal(ours(name)(at, bt).numpy(), ours(name)(a, b))
        # one numpy argument and one tensor: the tensor decides the type
        assert isinstance(ours(name)(a, torch.from_numpy(b)), torch.Tensor)


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_torch_half_computed_in_float32(rng, dtype):
    a = t(random_boxes(rng, 20), getattr(torch, dtype))
    b = t(random_boxes(rng, 10), getattr(torch, dtype))
    for name in PAIRWISE:
        got = ours(name)(a, b)
        assert got.dtype == torch.float32
        np.testing.assert_array_equal(got.numpy(), ours(name)(a.float(), b.float()).numpy())
    assert cvkernels.box_area(a).dtype == torch.float32
    assert cvkernels.box_convert(a, "xyxy", "cxcywh").dtype == a.dtype
    loss = cvkernels.generalized_box_iou_loss(a, a.flip(0)[:20])
    assert loss.dtype == torch.float32  # as torchvision, which upcasts half boxes


@requires_torch
def test_torch_bad_inputs():
    good = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="same device"):
        cvkernels.box_iou(good, torch.zeros(3, 4, device="meta"))
    with pytest.raises(ValueError, match="boxes1 must have shape"):
        torch.ops.cvkernels.box_iou(torch.zeros(3, 3), good)
    with pytest.raises(TypeError, match="boxes1"):
        cvkernels.box_iou(torch.zeros(3, 4, dtype=torch.complex64), good)
    with pytest.raises(ValueError, match="reduction"):
        torch.ops.cvkernels.generalized_box_iou_loss(good, good, "avg")


def _opcheck_samples(rng):
    a = t(random_boxes(rng, 6), torch.float64)
    b = t(random_boxes(rng, 5), torch.float64)
    ab = t(random_boxes(rng, 4, batch=2), torch.float64)
    bb = t(random_boxes(rng, 3, batch=2), torch.float64)
    return a, b, ab, bb


@requires_torch
def test_opcheck_every_op(rng):
    a, b, ab, bb = _opcheck_samples(rng)
    ops = torch.ops.cvkernels
    cases = []
    for name in PAIRWISE:
        cases += [(getattr(ops, name), (a.clone().requires_grad_(), b.clone().requires_grad_())),
                  (getattr(ops, name), (ab, bb))]
    for name in LOSSES:
        for red in ("none", "mean", "sum"):
            cases.append((getattr(ops, name), (a.clone().requires_grad_(), a.flip(0).clone().requires_grad_(), red, 1e-7)))
    cases += [(ops.box_area, (a.clone().requires_grad_(),)), (ops.box_convert, (a.clone().requires_grad_(), "xywh", "cxcywh"))]
    cases += [(ops._box_pairwise_backward, (torch.rand(6, 5, dtype=torch.float64), a, b, 1, 0.0)),
              (ops._box_loss_backward, (torch.rand(6, dtype=torch.float64), a, a.flip(0), 2, "none", 1e-7))]
    for op, args in cases:
        torch.library.opcheck(op, args)


def _ciou_torch(a, b, loss, eps=1e-7):
    """CIoU written as torch expressions, alpha detached (the definition's gradient)."""
    if not loss:
        a, b = a[..., :, None, :], b[..., None, :, :]
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    inter = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0) * (
        torch.minimum(ay2, by2) - torch.maximum(ay1, by1)
    ).clamp(min=0)
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    iou = inter / (union + eps) if loss else inter / union
    cw = torch.maximum(ax2, bx2) - torch.minimum(ax1, bx1)
    ch = torch.maximum(ay2, by2) - torch.minimum(ay1, by1)
    d2 = ((ax1 + ax2) / 2 - (bx1 + bx2) / 2) ** 2 + ((ay1 + ay2) / 2 - (by1 + by2) / 2) ** 2
    diou = iou - d2 / (cw**2 + ch**2 + eps)
    v = 4 / math.pi**2 * (torch.atan((ax2 - ax1) / (ay2 - ay1)) - torch.atan((bx2 - bx1) / (by2 - by1))) ** 2
    alpha = (v / (1 - iou + v + eps)).detach()
    ciou = diou - alpha * v
    return 1 - ciou if loss else ciou


@requires_torch
@pytest.mark.parametrize("name", ["complete_box_iou", "complete_box_iou_loss"])
def test_ciou_gradient_has_alpha_detached(rng, name):
    # CIoU treats alpha as a constant (Zheng et al.; torchvision too), so its gradient is not
    # the numerical derivative and gradcheck does not apply: compare with autograd instead.
    loss = name.endswith("loss")
    a = t(random_boxes(rng, 9), torch.float64)
    b = t(random_boxes(rng, 9 if loss else 6), torch.float64)
    res = []
    for fn in (ours(name), lambda x, y: _ciou_torch(x, y, loss)):
        x, y = a.clone().requires_grad_(), b.clone().requires_grad_()
        out = fn(x, y)
        (out * torch.linspace(-1, 2, out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
        res.append((out.detach(), x.grad, y.grad))
    torch.testing.assert_close(res[0], res[1], rtol=1e-10, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("name", [n for n in PAIRWISE + list(LOSSES) if "complete" not in n])
def test_gradcheck(rng, name):
    a = t(random_boxes(rng, 7), torch.float64).requires_grad_()
    b = t(random_boxes(rng, 7 if name in LOSSES else 5), torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(ours(name), (a, b))
    ab = t(random_boxes(rng, 4, batch=2), torch.float64).requires_grad_()
    bb = t(random_boxes(rng, 4, batch=2), torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(ours(name), (ab, bb))


@requires_torch
def test_gradcheck_area_convert(rng):
    a = t(random_boxes(rng, 6), torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(cvkernels.box_area, (a,))
    for f, to in [("xyxy", "cxcywh"), ("cxcywh", "xywh"), ("xywh", "xyxy")]:
        assert torch.autograd.gradcheck(lambda x: cvkernels.box_convert(x, f, to), (a,))


@requires_torch
def test_torch_compile_fullgraph(rng):
    a = t(random_boxes(rng, 16))
    b = t(random_boxes(rng, 9))

    def f(x, y):
        return torch.ops.cvkernels.generalized_box_iou(x, y).max(dim=1).values

    compiled = torch.compile(f, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(a, b), f(a, b))


@requires_cuda
@pytest.mark.parametrize("name", PAIRWISE)
def test_cuda_matches_cpu(rng, name):
    a = t(random_boxes(rng, 300))
    b = t(random_boxes(rng, 200))
    got = ours(name)(a.cuda(), b.cuda()).cpu()
    torch.testing.assert_close(got, ours(name)(a, b), rtol=1e-6, atol=1e-6)


@requires_cuda
@pytest.mark.parametrize("name", list(LOSSES))
def test_cuda_loss_grad_matches_cpu(rng, name):
    a = t(random_boxes(rng, 300), torch.float64)
    b = t(random_boxes(rng, 300), torch.float64)
    grads = []
    for dev in ("cpu", "cuda"):
        x = a.to(dev).requires_grad_()
        y = b.to(dev).requires_grad_()
        ours(name)(x, y, reduction="sum").backward()
        grads.append((x.grad.cpu(), y.grad.cpu()))
    torch.testing.assert_close(grads[0], grads[1])


# --- torchvision parity --------------------------------------------------------------------

@requires_tv
@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torchvision_parity(rng, name, dtype):
    dt = getattr(torch, dtype)
    a = t(random_boxes(rng, 257), dt)
    b = t(random_boxes(rng, 131), dt)
    got = ours(name)(a, b)
    want = getattr(tvops, name)(a, b)
    if name == "complete_box_iou":  # atan: glibc vs torch's vectorized atan differ in the last bit
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    else:  # same operations in the same order: the same bits
        assert torch.equal(got, want)


@requires_tv
def test_torchvision_parity_area_convert(rng):
    a = t(random_boxes(rng, 100))
    assert torch.equal(cvkernels.box_area(a), tvops.box_area(a))
    for f in ("xyxy", "xywh", "cxcywh"):
        for to in ("xyxy", "xywh", "cxcywh"):
            assert torch.equal(cvkernels.box_convert(a, f, to), tvops.box_convert(a, f, to)), (f, to)


@requires_tv
@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_torchvision_loss_and_grad_parity(rng, name, reduction):
    a = t(random_boxes(rng, 200), torch.float64)
    b = t(random_boxes(rng, 200), torch.float64)
    res = []
    for fn in (ours(name), getattr(tvops, name)):
        x, y = a.clone().requires_grad_(), b.clone().requires_grad_()
        out = fn(x, y, reduction=reduction)
        out.sum().backward()
        res.append((out.detach(), x.grad, y.grad))
    torch.testing.assert_close(res[0], res[1], rtol=1e-10, atol=1e-12)


@requires_tv
@pytest.mark.parametrize("name", PAIRWISE)
def test_torchvision_pairwise_grad_parity(rng, name):
    a = t(random_boxes(rng, 30), torch.float64)
    b = t(random_boxes(rng, 20), torch.float64)
    w = torch.randn(30, 20, dtype=torch.float64)
    res = []
    for fn in (ours(name), getattr(tvops, name)):
        x, y = a.clone().requires_grad_(), b.clone().requires_grad_()
        (fn(x, y) * w).sum().backward()
        res.append((x.grad, y.grad))
    torch.testing.assert_close(res[0], res[1], rtol=1e-10, atol=1e-12)


def test_torchvision_029_api_details(rng):
    a, b = random_boxes(rng, 5).astype(np.float64), random_boxes(rng, 3).astype(np.float64)
    for fmt in ("xywh", "cxcywh"):
        a2, b2 = cvkernels.box_convert(a, "xyxy", fmt), cvkernels.box_convert(b, "xyxy", fmt)
        np.testing.assert_allclose(cvkernels.box_iou(a2, b2, fmt=fmt), cvkernels.box_iou(a, b), rtol=1e-12)
        np.testing.assert_array_equal(cvkernels.box_area(a2, fmt=fmt), a2[:, 2] * a2[:, 3])
    with pytest.raises(ValueError, match="rotated"):
        cvkernels.box_iou(a, b, fmt="cxcywhr")
    with pytest.raises(ValueError, match="fmt"):
        cvkernels.box_area(a, fmt="abc")
    with pytest.raises(ValueError, match="Invalid"):
        cvkernels.generalized_box_iou_loss(a, a, reduction="x")
    assert cvkernels.batched_nms(np.zeros((0, 4)), None, None, 0.5).shape == (0,)
    if torch is not None:
        e = cvkernels.batched_nms(torch.zeros((0, 4)), None, None, 0.5)
        assert e.dtype == torch.int64 and e.shape == (0,)
        h = torch.from_numpy(a).half()
        assert cvkernels.generalized_box_iou_loss(h, h).dtype == torch.float32  # as torchvision
        np.testing.assert_array_equal(cvkernels.box_area(torch.from_numpy(a2), fmt=fmt).numpy(), a2[:, 2] * a2[:, 3])
        small = torch.tensor([[0, 0, 200, 200]], dtype=torch.int16)
        assert cvkernels.box_area(small).tolist() == [40000] and cvkernels.box_area(small).dtype == torch.int32
