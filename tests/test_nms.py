"""NMS family: against the greedy reference (exact kept indices), torchvision when installed,
edge cases, fixed-shape multiclass op, torch.compile / torch.export, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cvkernels
from cvkernels import reference as ref
from conftest import random_boxes, requires_cuda, requires_torch, torch

try:
    import torchvision.ops as tvops
except Exception:  # noqa: BLE001
    tvops = None
requires_tv = pytest.mark.skipif(tvops is None, reason="torchvision is not installed")


def clustered(rng, n, scale=200.0, dtype=np.float64):
    """Jittered copies of n // 10 objects: many overlaps, like a detector's raw output."""
    k = max(1, n // 10)
    centre = rng.uniform(0, scale, (k, 2))
    size = rng.uniform(scale / 40, scale / 8, (k, 2))
    o = rng.integers(0, k, n)
    c = centre[o] + rng.normal(0, 1, (n, 2)) * size[o] * 0.15
    s = size[o] * (1 + rng.normal(0, 1, (n, 2)) * 0.1)
    return np.concatenate([c - s / 2, c + s / 2], 1).astype(dtype), rng.uniform(0, 1, n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 1.0, -0.1])
@pytest.mark.parametrize("n", [1, 7, 300])
def test_nms_matches_reference(rng, dtype, thr, n):
    b, s = clustered(rng, n, dtype=dtype)
    got = cvkernels.nms(b, s, thr)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref.nms(b, s, thr))


def test_nms_spread_sizes_match_reference(rng):
    # tiny, huge and mid boxes together exercise the grid's big-box paths
    b, s = clustered(rng, 400)
    b[:20, 2:] += 150  # boxes far bigger than the median cell
    b[20:40, 2:] = b[20:40, :2] + 1e-3
    np.testing.assert_array_equal(cvkernels.nms(b, s, 0.3), ref.nms(b, s, 0.3))


def test_nms_edge_cases():
    e = np.zeros((0, 4), np.float32)
    assert cvkernels.nms(e, np.zeros(0, np.float32), 0.5).shape == (0,)
    one = np.array([[0, 0, 1, 1]], np.float32)
    assert cvkernels.nms(one, np.array([0.5], np.float32), 0.5).tolist() == [0]
    same = np.repeat(one, 5, axis=0)
    assert cvkernels.nms(same, np.array([0.1, 0.9, 0.3, 0.9, 0.2]), 0.5).tolist() == [1]
    # all scores equal: ties go to the lower index
    assert cvkernels.nms(same, np.full(5, 0.5), 0.5).tolist() == [0]
    assert cvkernels.nms(same, np.full(5, 0.5), 1.0).tolist() == [0, 1, 2, 3, 4]
    # NaN score ranks lowest; NaN box overlaps nothing
    b = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [np.nan, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    s = np.array([np.nan, 0.5, 0.9, 0.4], np.float32)
    assert cvkernels.nms(b, s, 0.5).tolist() == [2, 1, 3]
    # zero-area boxes have IoU 0 with everything: all kept
    z = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 5, 0]], np.float32)
    assert sorted(cvkernels.nms(z, np.array([0.3, 0.2, 0.1]), 0.0).tolist()) == [0, 1, 2]
    # threshold 0 suppresses any overlap
    o = np.array([[0, 0, 10, 10], [9, 9, 20, 20], [30, 30, 40, 40]], np.float64)
    assert cvkernels.nms(o, np.array([0.9, 0.8, 0.7]), 0.0).tolist() == [0, 2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_nms_matches_reference(rng, dtype):
    b, s = clustered(rng, 500, dtype=dtype)
    idx = rng.integers(-3, 5, 500)
    np.testing.assert_array_equal(cvkernels.batched_nms(b, s, idx, 0.5), ref.batched_nms(b, s, idx, 0.5))
    big = idx * 10**12  # any int64 class ids
    np.testing.assert_array_equal(cvkernels.batched_nms(b, s, big, 0.5), ref.batched_nms(b, s, idx, 0.5))


def test_batched_nms_exact_for_any_coordinates(rng):
    b, s = clustered(rng, 300)
    idx = rng.integers(0, 4, 300)
    want = ref.batched_nms(b, s, idx, 0.5)
    np.testing.assert_array_equal(cvkernels.batched_nms(b - 1e4, s, idx, 0.5), want)
    np.testing.assert_array_equal(cvkernels.batched_nms(b * 1e30, s, idx, 0.5), ref.batched_nms(b * 1e30, s, idx, 0.5))
    h = (b / 4).astype(np.float16)
    np.testing.assert_array_equal(cvkernels.batched_nms(h, s, idx, 0.5), ref.batched_nms(h.astype(np.float32), s, idx, 0.5))


def test_coordinates_near_the_float64_limit():
    # Boxes spread over most of the float64 range: the grid's extent overflows to inf and the
    # kernels fall back to all pairs (they used to raise "cannot create std::vector larger
    # than max_size()"). Same indices as the reference.
    b = np.array([[1.8555052551506561e307, -3.4962886600486914e305, 1.8555052551506561e307, 3.3967287899758830e307],
                  [8.6032750280204988e306, -7.3164118992731776e307, 8.6032750280204988e306, -7.3164118992731776e307],
                  [1.7185700924585566e307, 4.0222355724450507e307, 9.2609350419215837e307, 1.3019913691672727e308]])
    s = np.array([0.69, 0.077, 0.016])
    np.testing.assert_array_equal(cvkernels.nms(b, s, 0.5), [0, 1, 2])  # y1..y2 spans more than DBL_MAX
    rng = np.random.default_rng(1)
    for _ in range(100):
        n = int(rng.integers(1, 120))
        b = rng.uniform(-1, 1, (n, 4)) * 10.0 ** rng.uniform(300, 308.25)
        b[:, 2:] = np.maximum(b[:, 2:], b[:, :2])
        s = rng.random(n)
        idx = rng.integers(0, 3, n)
        with np.errstate(over="ignore", invalid="ignore"):  # the reference's areas overflow too
            want = ref.nms(b, s, 0.5), ref.batched_nms(b, s, idx, 0.5), ref.soft_nms(b, s, method="linear")[0]
        np.testing.assert_array_equal(cvkernels.nms(b, s, 0.5), want[0])
        np.testing.assert_array_equal(cvkernels.batched_nms(b, s, idx, 0.5), want[1])
        np.testing.assert_array_equal(cvkernels.soft_nms(b, s, method="linear")[0], want[2])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.sampled_from([0.0, 0.2, 0.5, 0.9]))
def test_nms_property_against_reference(seed, n, thr):
    rng = np.random.default_rng(seed)
    b, s = clustered(rng, n, scale=rng.uniform(1, 1e4))
    s = np.round(s, 1)  # many ties
    if n > 3:
        b[rng.integers(0, n)] = [5, 5, 5, 5]
        b[rng.integers(0, n)] = [10, 10, 2, 2]  # x2 < x1
    np.testing.assert_array_equal(cvkernels.nms(b, s, thr), ref.nms(b, s, thr))
    idx = rng.integers(0, 3, n)
    np.testing.assert_array_equal(cvkernels.batched_nms(b, s, idx, thr), ref.batched_nms(b, s, idx, thr))


@pytest.mark.parametrize("method", ["gaussian", "linear"])
@pytest.mark.parametrize("batched", [False, True])
def test_soft_nms_matches_reference(rng, method, batched):
    b, s = clustered(rng, 400)
    idx = rng.integers(0, 4, 400) if batched else None
    kw = dict(iou_threshold=0.3, sigma=0.5, score_threshold=0.01, method=method)
    if batched:
        k, ns = cvkernels.batched_soft_nms(b, s, idx, **kw)
    else:
        k, ns = cvkernels.soft_nms(b, s, **kw)
    rk, rs = ref.soft_nms(b, s, idxs=idx, **kw)
    np.testing.assert_array_equal(k, rk)
    np.testing.assert_allclose(ns, rs, rtol=1e-12, atol=1e-15)
    assert (np.diff(ns) <= 0).all()


@pytest.mark.parametrize("method", ["gaussian", "linear"])
@pytest.mark.parametrize("case", range(6))
def test_soft_nms_simd_paths_equal_scalar_path(rng, method, case):
    """float32 soft-NMS runs as an AVX-512 or AVX2 scan where the CPU has one, else on the
    grid-and-heap scalar path: same selections, same score bits (ties, NaN/inf boxes, -inf
    threshold)."""
    if cvkernels._C.simd_level() == "baseline":
        pytest.skip("needs an AVX2 CPU (else only the scalar path exists)")
    n = (1, 17, 250, 400, 500, 300)[case]
    b, s = clustered(rng, n, dtype=np.float32)
    if case == 2:
        s = np.round(s, 1)  # many equal scores: ties go to the lower index
    if case == 3:
        b = np.round(b / 20) * 20  # many identical boxes and touching edges
    if case == 4:
        b[0] = np.nan
        b[1, 2] = np.inf
        b[2] = [5, 5, 5, 5]
        b[3, 0] = -np.inf
        b[4] = [10, 10, 2, 2]
    idx = rng.integers(0, 3, n) if case == 5 else None
    kw = dict(method=method, sigma=float(rng.uniform(0.05, 1)), iou_threshold=0.4,
              score_threshold=-np.inf if case == 1 else 0.01)
    if idx is None:
        run = lambda: cvkernels.soft_nms(b, s, **kw)  # noqa: E731
    else:
        run = lambda: cvkernels.batched_soft_nms(b, s, idx, **kw)  # noqa: E731
    k1, s1 = run()  # AVX-512 where present, else AVX2
    cvkernels._C.set_avx512_enabled(False)
    try:
        k2, s2 = run()  # AVX2
        cvkernels._C.set_simd_enabled(False)
        k3, s3 = run()  # scalar
    finally:
        cvkernels._C.set_avx512_enabled(True)
        cvkernels._C.set_simd_enabled(True)
    for k, sc in ((k2, s2), (k3, s3)):
        np.testing.assert_array_equal(k1, k)
        np.testing.assert_array_equal(s1, sc)
    with np.errstate(invalid="ignore"):  # inf - inf in the reference's areas
        rk, rs = ref.soft_nms(b, s, idxs=idx, **kw)
    np.testing.assert_array_equal(k1, rk)
    np.testing.assert_allclose(s1, rs, rtol=1e-5)


def test_soft_nms_edge_cases(rng):
    k, s = cvkernels.soft_nms(np.zeros((0, 4)), np.zeros(0))
    assert k.shape == (0,) and s.shape == (0,)
    b = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    k, s = cvkernels.soft_nms(b, np.array([0.9, np.nan, 0.0005], np.float32))
    assert k.tolist() == [0] and s.dtype == np.float32  # NaN and below-threshold scores dropped
    k, s = cvkernels.soft_nms(b, np.array([0.9, 0.8, 0.7]), method="linear", iou_threshold=0.5)
    assert k.tolist() == [0, 2]  # box 1 is box 0's twin: 0.8 * (1 - 1) = 0 < 0.001, dropped
    k, s = cvkernels.soft_nms(b, np.array([0.9, 0.8, 0.7]), method="linear", iou_threshold=0.5, score_threshold=0.0)
    assert k.tolist() == [0, 2, 1] and s[2] == 0.0
    b, sc = clustered(rng, 200, dtype=np.float32)
    k, s = cvkernels.soft_nms(b, sc)
    rk, rs = ref.soft_nms(b, sc)
    np.testing.assert_array_equal(k, rk)
    np.testing.assert_allclose(s, rs, rtol=1e-5)


def _check_multiclass(got, want, B):
    num, ob, os_, oc = got
    K = ob.shape[1]
    for i in range(B):
        n = int(num[i])
        assert n == len(want[i])
        np.testing.assert_allclose(ob[i, :n], np.array([d[0] for d in want[i]]).reshape(-1, 4), rtol=1e-6)
        np.testing.assert_allclose(os_[i, :n], [d[1] for d in want[i]], rtol=1e-6)
        assert oc[i, :n].tolist() == [d[2] for d in want[i]]
        assert (ob[i, n:] == 0).all() and (os_[i, n:] == 0).all() and (oc[i, n:] == -1).all()
        assert n <= K


@pytest.mark.parametrize("agnostic", [False, True])
@pytest.mark.parametrize("per_class_boxes", [False, True])
def test_multiclass_nms_matches_reference(rng, agnostic, per_class_boxes):
    B, N, C = 3, 120, 5
    boxes = np.stack([clustered(rng, N)[0] for _ in range(B)])
    if per_class_boxes:
        boxes = boxes[:, :, None, :] + rng.normal(0, 2, (B, N, C, 4))
    scores = rng.uniform(0, 1, (B, N, C))
    scores[0, :5, 0] = np.nan
    for per, total in [(10, 25), (3, 100), (0, 5), (50, 0)]:
        got = cvkernels.multiclass_nms(boxes, scores, 0.2, 0.45, per, total, agnostic)
        assert got[1].shape == (B, total, 4) and got[0].dtype == np.int64
        _check_multiclass(got, ref.multiclass_nms(boxes, scores, 0.2, 0.45, per, total, agnostic), B)


def test_multiclass_nms_empty():
    num, ob, os_, oc = cvkernels.multiclass_nms(np.zeros((2, 0, 4)), np.zeros((2, 0, 3)), 0.1, 0.5, 5, 7)
    assert num.tolist() == [0, 0] and ob.shape == (2, 7, 4) and (oc == -1).all()
    num, *_ = cvkernels.multiclass_nms(np.zeros((0, 4, 4)), np.zeros((0, 4, 3)), 0.1, 0.5, 5, 7)
    assert num.shape == (0,)


def test_bad_inputs():
    b = np.zeros((3, 4), np.float32)
    s = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="boxes must have shape"):
        cvkernels.nms(np.zeros((3, 5)), s, 0.5)
    with pytest.raises(ValueError, match="scores must have shape"):
        cvkernels.nms(b, np.zeros(4), 0.5)
    with pytest.raises(ValueError, match="iou_threshold must be a number"):
        cvkernels.nms(b, s, float("nan"))
    with pytest.raises(TypeError, match="iou_threshold"):
        cvkernels.nms(b, s, "0.5")
    with pytest.raises(TypeError, match="scores"):
        cvkernels.nms(b, np.array(["a", "b", "c"]), 0.5)
    with pytest.raises(ValueError, match="idxs must have shape"):
        cvkernels.batched_nms(b, s, np.zeros(2, np.int64), 0.5)
    with pytest.raises(TypeError, match="idxs must be an integer"):
        cvkernels.batched_nms(b, s, np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="method"):
        cvkernels.soft_nms(b, s, method="hard")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        cvkernels.soft_nms(b, s, sigma=0)
    with pytest.raises(ValueError, match="boxes must have shape"):
        cvkernels.multiclass_nms(np.zeros((1, 3, 5)), np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="scores must have shape"):
        cvkernels.multiclass_nms(np.zeros((1, 3, 4)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="max_total must be >= 0"):
        cvkernels.multiclass_nms(np.zeros((1, 3, 4)), np.zeros((1, 3, 2)), max_total=-1)


# --- torch ---------------------------------------------------------------------------------

def tt(x):
    return torch.from_numpy(np.ascontiguousarray(x))


@requires_torch
def test_torch_matches_numpy(rng):
    b, s = clustered(rng, 300, dtype=np.float32)
    idx = rng.integers(0, 3, 300)
    got = cvkernels.nms(tt(b), tt(s), 0.5)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), cvkernels.nms(b, s, 0.5))
    np.testing.assert_array_equal(cvkernels.batched_nms(tt(b), tt(s), tt(idx), 0.5).numpy(),
                                  cvkernels.batched_nms(b, s, idx, 0.5))
    k, ns = cvkernels.soft_nms(tt(b), tt(s))
    rk, rs = cvkernels.soft_nms(b, s)
    np.testing.assert_array_equal(k.numpy(), rk)
    np.testing.assert_array_equal(ns.numpy(), rs)
    # non-contiguous and half
    bt = tt(np.repeat(b, 2, axis=0))[::2]
    np.testing.assert_array_equal(cvkernels.nms(bt, tt(s).half(), 0.5).numpy(), cvkernels.nms(b, s.astype(np.float16), 0.5))


@requires_torch
def test_torch_bad_inputs():
    b = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="same device"):
        cvkernels.nms(b, torch.zeros(3, device="meta"), 0.5)
    with pytest.raises(TypeError, match="idxs must be an integer"):
        torch.ops.cvkernels.batched_nms(b, torch.zeros(3), torch.zeros(3), 0.5)


@requires_torch
def test_opcheck(rng):
    b, s = clustered(rng, 50, dtype=np.float32)
    idx = tt(rng.integers(0, 3, 50))
    b, s = tt(b), tt(s)
    ops = torch.ops.cvkernels
    for op, args in [
        (ops.nms, (b, s, 0.5)),
        (ops.batched_nms, (b, s, idx, 0.5)),
        (ops.soft_nms, (b, s, None, 0.3, 0.5, 0.001, "gaussian")),
        (ops.soft_nms, (b, s, idx, 0.3, 0.5, 0.001, "linear")),
        (ops.multiclass_nms, (b.view(2, 25, 4), s.view(2, 25, 1).repeat(1, 1, 3), 0.1, 0.5, 5, 10, False)),
    ]:
        torch.library.opcheck(op, args)


@requires_torch
def test_torch_compile_fullgraph_nms(rng):
    b, s = clustered(rng, 64, dtype=np.float32)
    b, s = tt(b), tt(s)

    def f(boxes, scores):
        keep = torch.ops.cvkernels.nms(boxes, scores, 0.5)
        return boxes[keep] * 2

    compiled = torch.compile(f, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(b, s), f(b, s))


@requires_torch
def test_torch_export_multiclass(rng):
    class PostProcess(torch.nn.Module):
        def forward(self, boxes, scores):
            return torch.ops.cvkernels.multiclass_nms(boxes, scores, 0.1, 0.5, 20, 30, False)

    boxes = tt(np.stack([clustered(rng, 40, dtype=np.float32)[0] for _ in range(2)]))
    scores = tt(rng.uniform(0, 1, (2, 40, 3)).astype(np.float32))
    ep = torch.export.export(PostProcess(), (boxes, scores))
    for x, y in zip(ep.module()(boxes, scores), PostProcess()(boxes, scores)):
        torch.testing.assert_close(x, y)


@requires_cuda
def test_cuda_matches_cpu(rng):
    b, s = clustered(rng, 3000, dtype=np.float32)
    idx = rng.integers(0, 7, 3000)
    cb, cs, ci = tt(b).cuda(), tt(s).cuda(), tt(idx).cuda()
    assert torch.equal(cvkernels.nms(cb, cs, 0.5).cpu(), cvkernels.nms(tt(b), tt(s), 0.5))
    assert torch.equal(cvkernels.batched_nms(cb, cs, ci, 0.5).cpu(), cvkernels.batched_nms(tt(b), tt(s), tt(idx), 0.5))
    for method in ("gaussian", "linear"):
        k1, s1 = cvkernels.batched_soft_nms(cb, cs, ci, method=method)
        k2, s2 = cvkernels.batched_soft_nms(tt(b), tt(s), tt(idx), method=method)
        assert torch.equal(k1.cpu(), k2)
        torch.testing.assert_close(s1.cpu(), s2, rtol=1e-5, atol=1e-6)
    boxes = tt(b[:2400].reshape(3, 800, 4)).cuda()
    scores = torch.rand(3, 800, 6, device="cuda")
    for agnostic in (False, True):
        g = cvkernels.multiclass_nms(boxes, scores, 0.2, 0.5, 30, 50, agnostic)
        c = cvkernels.multiclass_nms(boxes.cpu(), scores.cpu(), 0.2, 0.5, 30, 50, agnostic)
        for x, y in zip(g, c):
            torch.testing.assert_close(x.cpu(), y)


# --- torchvision parity --------------------------------------------------------------------

@requires_tv
@pytest.mark.parametrize("n", [1, 50, 2000])
@pytest.mark.parametrize("thr", [0.0, 0.5, 0.9])
def test_torchvision_nms_parity(rng, n, thr):
    b, s = clustered(rng, n, dtype=np.float32)
    b, s = tt(b), tt(s)  # uniform float scores: distinct
    assert torch.equal(cvkernels.nms(b, s, thr), tvops.nms(b, s, thr))
    idx = tt(rng.integers(0, 10, n))
    assert torch.equal(cvkernels.batched_nms(b, s, idx, thr), tvops.batched_nms(b, s, idx, thr))
