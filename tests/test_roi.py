"""RoIAlign and RoIPool: against the plain-loop reference, torchvision (same bits in float32),
layouts (channels-last in place), gradients (gradcheck, torchvision parity, determinism),
edge cases and errors."""

import numpy as np
import pytest

import cvkernels
from cvkernels import reference as ref
from conftest import requires_cuda, requires_torch, torch

try:
    import torchvision.ops as tvops
except Exception:  # noqa: BLE001
    tvops = None
requires_tv = pytest.mark.skipif(tvops is None, reason="torchvision is not installed")


def make_rois(rng, k, n, h, w, scale=1.0, dtype=np.float64):
    """RoIs in image coordinates; some partly or wholly outside the map, tiny and huge ones."""
    H, W = h / scale, w / scale
    xy = rng.uniform(-0.2, 1.0, (k, 2)) * [W, H]
    wh = rng.uniform(0.01, 0.8, (k, 2)) * [W, H]
    boxes = np.concatenate([xy, xy + wh], 1)
    boxes[: k // 8, 2:] = boxes[: k // 8, :2] + 0.3  # tiny
    boxes[k // 8 : k // 6] = [-2 * W, -2 * H, 3 * W, 3 * H]  # bigger than the map
    boxes[k // 6 : k // 5] += [2 * W, 0, 2 * W, 0]  # wholly outside
    return np.concatenate([rng.integers(0, n, (k, 1)), boxes], 1).astype(dtype)


@pytest.fixture
def feats(rng):
    return rng.normal(size=(2, 3, 9, 11))


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 1, 2])
@pytest.mark.parametrize("output_size", [(3, 3), (2, 5), 1])
def test_roi_align_matches_reference(rng, feats, aligned, sampling_ratio, output_size):
    rois = make_rois(rng, 20, 2, 9, 11, scale=0.5)
    got = cvkernels.roi_align(feats, rois, output_size, 0.5, sampling_ratio, aligned)
    want = ref.roi_align(feats, rois, output_size, 0.5, sampling_ratio, aligned)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("output_size", [(3, 3), (2, 5)])
def test_roi_pool_matches_reference(rng, feats, output_size):
    rois = make_rois(rng, 20, 2, 9, 11, scale=0.5)
    np.testing.assert_array_equal(cvkernels.roi_pool(feats, rois, output_size, 0.5),
                                  ref.roi_pool(feats, rois, output_size, 0.5))


def test_layouts_agree(rng):
    # Many RoIs on a small map: the channels-first input goes through the transposed path;
    # few RoIs: plane by plane. Channels-last views are read in place. All the same bits.
    x = rng.normal(size=(2, 16, 12, 10)).astype(np.float32)
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert not x_cl.flags.c_contiguous
    for k in (3, 200):
        rois = make_rois(rng, k, 2, 12, 10, dtype=np.float32)
        a = cvkernels.roi_align(x, rois, 4, 1.0, 2, True)
        np.testing.assert_array_equal(a, cvkernels.roi_align(x_cl, rois, 4, 1.0, 2, True))
        p = cvkernels.roi_pool(x, rois, 3)
        np.testing.assert_array_equal(p, cvkernels.roi_pool(x_cl, rois, 3))
        cvkernels._C.set_simd_enabled(False)
        np.testing.assert_array_equal(a, cvkernels.roi_align(x_cl, rois, 4, 1.0, 2, True))
        cvkernels._C.set_simd_enabled(True)


def test_box_list_format_and_empty(rng, feats):
    rois = make_rois(rng, 6, 2, 9, 11)
    rois[:, 0] = [0, 0, 0, 1, 1, 1]
    listed = [rois[:3, 1:], rois[3:, 1:]]
    np.testing.assert_array_equal(cvkernels.roi_align(feats, listed, 2), cvkernels.roi_align(feats, rois, 2))
    assert cvkernels.roi_align(feats, np.zeros((0, 5)), 2).shape == (0, 3, 2, 2)
    assert cvkernels.roi_pool(feats, np.zeros((0, 5)), (2, 3)).shape == (0, 3, 2, 3)
    assert cvkernels.roi_align(feats, rois, (0, 2)).shape == (6, 3, 0, 2)


def test_non_finite_rois_give_zero(feats):
    rois = np.array([[0, np.nan, 0, 4, 4], [1, 0, 0, np.inf, 4], [0, 1, 1, 5, 5]])
    a = cvkernels.roi_align(feats, rois, 2, sampling_ratio=-1)
    assert (a[:2] == 0).all() and np.isfinite(a).all()
    p = cvkernels.roi_pool(feats, rois, 2)
    assert (p[:2] == 0).all()


def test_bad_inputs(feats):
    rois = np.array([[0, 0, 0, 4, 4]], np.float64)
    with pytest.raises(ValueError, match=r"batch index"):
        cvkernels.roi_align(feats, np.array([[2, 0, 0, 4, 4]]), 2)
    with pytest.raises(ValueError, match=r"batch index"):
        cvkernels.roi_pool(feats, np.array([[-1, 0, 0, 4, 4]]), 2)
    with pytest.raises(ValueError, match=r"batch index"):
        cvkernels.roi_align(feats, np.array([[np.nan, 0, 0, 4, 4]]), 2)
    with pytest.raises(ValueError, match="output_size must be >= 0"):
        cvkernels.roi_align(feats, rois, (-1, 2))
    with pytest.raises(TypeError, match="output_size"):
        cvkernels.roi_align(feats, rois, 2.5)
    with pytest.raises(ValueError, match=r"input must have shape \(N, C, H, W\)"):
        cvkernels.roi_align(feats[0], rois, 2)
    with pytest.raises(ValueError, match="boxes must be a"):
        cvkernels.roi_align(feats, np.zeros((3, 4)), 2)
    with pytest.raises(ValueError, match=r"boxes\[0\] must have shape"):
        cvkernels.roi_pool(feats, [np.zeros((3, 5))], 2)
    with pytest.raises(TypeError, match="input must be a float"):
        cvkernels.roi_align(feats.astype(np.int64), rois, 2)
    with pytest.raises(TypeError, match="sampling_ratio"):
        cvkernels.roi_align(feats, rois, 2, sampling_ratio=1.5)


# --- torch ---------------------------------------------------------------------------------

def tt(x):
    return torch.from_numpy(np.ascontiguousarray(x))


@requires_torch
def test_torch_matches_numpy_and_half(rng, feats):
    rois = make_rois(rng, 30, 2, 9, 11)
    x, r = tt(feats), tt(rois)
    np.testing.assert_array_equal(cvkernels.roi_align(x, r, 3, 1.0, 2, True).numpy(),
                                  cvkernels.roi_align(feats, rois, 3, 1.0, 2, True))
    np.testing.assert_array_equal(cvkernels.roi_pool(x, r, 3).numpy(), cvkernels.roi_pool(feats, rois, 3))
    h = cvkernels.roi_align(x.half(), r.half(), 3)
    assert h.dtype == torch.float16
    torch.testing.assert_close(h.float(), cvkernels.roi_align(x.half().float(), r.half().float(), 3), rtol=1e-3, atol=1e-3)


@requires_torch
def test_gradcheck(rng):
    x = torch.randn(2, 2, 6, 7, dtype=torch.float64, requires_grad=True)
    # boxes away from pixel-exact edges so that the finite differences see a smooth function
    rois = tt(make_rois(rng, 5, 2, 6, 7)) + 0.013
    rois[:, 0] = torch.tensor([0, 1, 0, 1, 0], dtype=torch.float64)
    for aligned in (False, True):
        for sr in (-1, 2):
            assert torch.autograd.gradcheck(lambda t: cvkernels.roi_align(t, rois, (3, 2), 0.9, sr, aligned), (x,))
    xp = torch.arange(2 * 2 * 6 * 7, dtype=torch.float64).reshape(2, 2, 6, 7).requires_grad_()  # distinct max
    assert torch.autograd.gradcheck(lambda t: cvkernels.roi_pool(t, rois, (3, 2), 0.9), (xp,))


@requires_torch
def test_channels_last_gradient_layout(rng):
    x = torch.randn(2, 8, 10, 12).contiguous(memory_format=torch.channels_last).requires_grad_()
    rois = tt(make_rois(rng, 40, 2, 10, 12, dtype=np.float32))
    y = cvkernels.roi_align(x, rois, 3, 1.0, 2, True)
    y.sum().backward()
    assert x.grad.is_contiguous(memory_format=torch.channels_last)
    x2 = x.detach().contiguous().requires_grad_()
    cvkernels.roi_align(x2, rois, 3, 1.0, 2, True).sum().backward()
    assert torch.equal(x.grad, x2.grad)


@requires_torch
def test_opcheck(rng):
    x = torch.randn(2, 3, 8, 9, dtype=torch.float64, requires_grad=True)
    rois = tt(make_rois(rng, 6, 2, 8, 9))
    ops = torch.ops.cvkernels
    torch.library.opcheck(ops.roi_align, (x, rois, 0.5, 3, 2, 2, True))
    torch.library.opcheck(ops.roi_pool, (x, rois, 0.5, 3, 2))
    g = torch.randn(6, 3, 3, 2, dtype=torch.float64)
    torch.library.opcheck(ops._roi_align_backward, (g, rois, 0.5, 3, 2, 2, 3, 8, 9, 2, True, False))
    _, arg = ops.roi_pool(x.detach(), rois, 0.5, 3, 2)
    torch.library.opcheck(ops._roi_pool_backward, (g, rois, arg, 0.5, 3, 2, 2, 3, 8, 9, False))


@requires_torch
def test_nn_modules(rng):
    x = torch.randn(1, 4, 8, 8)
    rois = tt(make_rois(rng, 5, 1, 8, 8, dtype=np.float32))
    m = cvkernels.nn.RoIAlign((2, 2), 1.0, 2, aligned=True)
    assert torch.equal(m(x, rois), cvkernels.roi_align(x, rois, (2, 2), 1.0, 2, True))
    assert torch.equal(cvkernels.nn.RoIPool(3, 1.0)(x, rois), cvkernels.roi_pool(x, rois, 3))
    assert "RoIAlign" in repr(m)


@requires_torch
def test_torch_bad_inputs(rng):
    x = torch.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match="same device"):
        torch.ops.cvkernels.roi_align(x, torch.zeros(1, 5, device="meta"), 1.0, 2, 2, -1, False)
    with pytest.raises(ValueError, match="batch index"):
        cvkernels.roi_align(x, torch.tensor([[3.0, 0, 0, 2, 2]]), 2)


@requires_cuda
def test_cuda_matches_cpu(rng):
    x = torch.randn(2, 32, 20, 24)
    rois = tt(make_rois(rng, 100, 2, 20, 24, dtype=np.float32))
    for xx in (x, x.contiguous(memory_format=torch.channels_last)):
        xc = xx.cuda().requires_grad_()
        xh = xx.clone().requires_grad_()
        for fn, args in ((cvkernels.roi_align, (5, 1.0, 2, True)), (cvkernels.roi_pool, (5, 1.0))):
            yc, yh = fn(xc, rois.cuda(), *args), fn(xh, rois, *args)
            torch.testing.assert_close(yc.cpu(), yh, rtol=1e-5, atol=1e-6)
            g = torch.randn_like(yh)
            gc, = torch.autograd.grad(yc, xc, g.cuda())
            gh, = torch.autograd.grad(yh, xh, g)
            torch.testing.assert_close(gc.cpu(), gh, rtol=1e-5, atol=1e-5)
    torch.use_deterministic_algorithms(True)
    try:
        xc = x.cuda().requires_grad_()
        y = cvkernels.roi_align(xc, rois.cuda(), 5, 1.0, 2, True)
        g1, = torch.autograd.grad(y, xc, torch.ones_like(y), retain_graph=True)
        g2, = torch.autograd.grad(y, xc, torch.ones_like(y))
        assert torch.equal(g1, g2)
    finally:
        torch.use_deterministic_algorithms(False)


# --- torchvision parity --------------------------------------------------------------------

@requires_tv
@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 2, 3])
def test_torchvision_roi_align_parity(rng, aligned, sampling_ratio):
    x = torch.randn(2, 8, 25, 30)
    rois = tt(make_rois(rng, 64, 2, 25, 30, scale=0.25, dtype=np.float32))
    for xx in (x, x.contiguous(memory_format=torch.channels_last)):
        a = cvkernels.roi_align(xx, rois, (7, 5), 0.25, sampling_ratio, aligned)
        b = tvops.roi_align(x, rois, (7, 5), 0.25, sampling_ratio, aligned)
        assert torch.equal(a, b)  # same operations in the same order: the same bits
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    g = torch.randn(64, 8, 7, 5)
    (cvkernels.roi_align(xa, rois, (7, 5), 0.25, sampling_ratio, aligned) * g).sum().backward()
    (tvops.roi_align(xb, rois, (7, 5), 0.25, sampling_ratio, aligned) * g).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=1e-6)


@requires_tv
def test_torchvision_roi_pool_parity(rng):
    x = torch.randn(2, 8, 25, 30)
    rois = tt(make_rois(rng, 64, 2, 25, 30, scale=0.25, dtype=np.float32))
    for xx in (x, x.contiguous(memory_format=torch.channels_last)):
        assert torch.equal(cvkernels.roi_pool(xx, rois, (7, 5), 0.25), tvops.roi_pool(x, rois, (7, 5), 0.25))
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    g = torch.randn(64, 8, 7, 5)
    (cvkernels.roi_pool(xa, rois, (7, 5), 0.25) * g).sum().backward()
    (tvops.roi_pool(xb, rois, (7, 5), 0.25) * g).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)
    box_list = [rois[rois[:, 0] == i, 1:] for i in range(2)]
    torch.testing.assert_close(cvkernels.roi_align(x, box_list, 3, 0.25), tvops.roi_align(x, box_list, 3, 0.25))


def test_object_rois_are_refused():
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(TypeError, match="numeric"):
        cvkernels.roi_align(x, np.array([[0, None, 0, 2, 2]], dtype=object), 2)  # None would become NaN
    with pytest.raises(TypeError, match="numeric"):
        cvkernels.roi_pool(x, np.array([[0, "1", 0, 2, 2]], dtype=object), 2)


@pytest.mark.parametrize("shape", [(1, 1, 0, 5), (1, 1, 5, 0), (2, 3, 0, 0)])
def test_empty_feature_map_gives_zeros(shape):
    # Every sample lies outside an empty map: zeros (and no read before the buffer).
    x = np.zeros(shape, np.float32)
    rois = np.array([[0, -1, -1, 0, 0], [0, 1, 1, 3, 3]], np.float32)
    out = cvkernels.roi_align(x, rois, 2)
    assert out.shape == (2, shape[1], 2, 2) and not out.any()
    pooled = cvkernels.roi_pool(x, rois, 2)
    assert pooled.shape == (2, shape[1], 2, 2) and not pooled.any()
    if torch is not None:
        xt = torch.zeros(shape, requires_grad=True)
        y = cvkernels.roi_align(xt, torch.from_numpy(rois), 2) + cvkernels.roi_pool(xt, torch.from_numpy(rois), 2)
        assert not y.any()
        y.sum().backward()
        assert xt.grad.shape == shape
