"""box_iou_rotated: against shapely's polygon intersection (the oracle) and the numpy reference
on random rotated boxes (angles of any sign and size, thin and large boxes), on hand cases
(identical, disjoint, contained, a square and its 45-degree turn, shared edges), zero-size and
NaN boxes, empty inputs, both dtypes, numpy and torch, opcheck, bad input."""

import numpy as np
import pytest

import cvkernels
from cvkernels import reference

shapely = pytest.importorskip("shapely")


def _poly(b):
    from shapely.geometry import Polygon

    cx, cy, w, h, a = b
    c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
    return Polygon([(cx + c * dx - s * dy, cy + s * dx + c * dy)
                    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))])


def _shapely_iou(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        pp = _poly(p)
        for j, q in enumerate(b):
            qq = _poly(q)
            inter = pp.intersection(qq).area
            uni = pp.area + qq.area - inter
            out[i, j] = inter / uni if uni > 0 else 0.0
    return out


def _random(n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0, 50, n), rng.uniform(0, 50, n), rng.uniform(0.5, 30, n),
                            rng.uniform(0.5, 30, n), rng.uniform(-400, 400, n)])


@pytest.mark.parametrize("seed", range(3))
def test_equals_shapely_and_the_reference(seed):
    a, b = _random(40, seed), _random(30, seed + 10)
    got = cvkernels.box_iou_rotated(a, b)
    np.testing.assert_allclose(got, _shapely_iou(a, b), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got, reference.box_iou_rotated(a, b), rtol=1e-12, atol=1e-14)
    got32 = cvkernels.box_iou_rotated(a.astype(np.float32), b.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, _shapely_iou(a.astype(np.float32).astype(np.float64),
                                                   b.astype(np.float32).astype(np.float64)), rtol=1e-6, atol=1e-7)


def test_hand_cases():
    boxes = np.array([
        [0, 0, 2, 2, 0], [0, 0, 2, 2, 45], [10, 10, 2, 2, 30],  # turned square; far away
        [0, 0, 1, 1, 0], [1, 0, 2, 2, 0], [0, 0, 2, 2, 90],  # contained; half overlap; a quarter turn
        [0, 0, 0, 2, 0], [0, 0, 4, 1, 180],  # zero width; a half turn of a long box
    ], dtype=np.float64)
    got = cvkernels.box_iou_rotated(boxes, boxes)
    np.testing.assert_allclose(got, _shapely_iou(boxes, boxes), rtol=1e-9, atol=1e-12)
    assert got[0, 1] == pytest.approx(8 * (np.sqrt(2) - 1) / (8 - 8 * (np.sqrt(2) - 1)))
    assert got[0, 2] == 0 and got[0, 3] == 0.25 and got[0, 4] == pytest.approx(1 / 3) and got[0, 5] == pytest.approx(1)
    assert (got[6] == 0).all()  # a zero-size box overlaps nothing
    nan = cvkernels.box_iou_rotated(np.array([[np.nan, 0, 1, 1, 0], [0, 0, 1, 1, np.inf]]), boxes[:2])
    assert np.isnan(nan).all()


def test_torch_empty_opcheck_and_bad_input():
    torch = pytest.importorskip("torch")
    a, b = _random(7, 3), _random(5, 4)
    t = cvkernels.box_iou_rotated(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    assert t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), cvkernels.box_iou_rotated(a.astype(np.float32), b.astype(np.float32)))
    assert cvkernels.box_iou_rotated(np.zeros((0, 5)), b).shape == (0, 5)
    torch.library.opcheck(torch.ops.cvkernels.box_iou_rotated, (torch.from_numpy(a), torch.from_numpy(b)))
    with pytest.raises(ValueError, match=r"boxes2 must have shape \(N, 5\)"):
        cvkernels.box_iou_rotated(a, b[:, :4])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threshold", [0.1, 0.5])
def test_nms_rotated_equals_the_reference(seed, threshold):
    rng = np.random.default_rng(seed)
    b = np.column_stack([rng.uniform(0, 30, 80), rng.uniform(0, 30, 80), rng.uniform(2, 15, 80), rng.uniform(2, 15, 80),
                         rng.uniform(-90, 90, 80)])
    s = np.round(rng.uniform(size=80), 1)  # ties: broken by index
    s[3] = np.nan  # NaN scores come last
    idxs = rng.integers(0, 3, 80)
    np.testing.assert_array_equal(cvkernels.nms_rotated(b, s, threshold), reference.nms_rotated(b, s, threshold))
    np.testing.assert_array_equal(cvkernels.batched_nms_rotated(b, s, idxs, threshold),
                                  reference.nms_rotated(b, s, threshold, idxs))


def test_nms_rotated_torch_opcheck_and_bad_input():
    torch = pytest.importorskip("torch")
    b, s = torch.from_numpy(_random(30, 7)), torch.rand(30, dtype=torch.float64)
    keep = cvkernels.nms_rotated(b, s, 0.2)
    assert keep.dtype == torch.int64
    np.testing.assert_array_equal(keep.numpy(), reference.nms_rotated(b.numpy(), s.numpy(), 0.2))
    torch.library.opcheck(torch.ops.cvkernels.nms_rotated, (b, s, None, 0.2))
    torch.library.opcheck(torch.ops.cvkernels.nms_rotated, (b, s, torch.randint(0, 2, (30,)), 0.2))
    assert cvkernels.nms_rotated(np.zeros((0, 5)), np.zeros(0), 0.5).shape == (0,)
    with pytest.raises(ValueError, match=r"scores must have shape \(N,\)"):
        cvkernels.nms_rotated(b, s[:3], 0.5)


def test_cuda_equals_cpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    a, b = torch.from_numpy(_random(300, 11)), torch.from_numpy(_random(200, 12))
    for dt in (torch.float32, torch.float64):
        got = cvkernels.box_iou_rotated(a.to(dt).cuda(), b.to(dt).cuda())
        assert got.is_cuda and got.dtype == dt
        torch.testing.assert_close(got.cpu(), cvkernels.box_iou_rotated(a.to(dt), b.to(dt)), rtol=1e-6, atol=1e-7)
