"""Bipartite matching: linear_sum_assignment against scipy (the peer and definition: same
totals, same assignments, also on tied integer costs) and an exhaustive reference, with
forbidden cells, infeasible and invalid matrices, rectangular and empty shapes, batches (lists
and padded tensors with sizes); hungarian_match against DETR's HungarianMatcher (its torch cost
and scipy, written out here) on float32 and float64, images without targets, bad input."""

import numpy as np
import pytest

import cvkernels
from cvkernels import reference

try:
    import scipy.optimize as scipy_optimize
except ImportError:  # the exhaustive reference still checks the solver (and runs under ASan)
    scipy_optimize = None
requires_scipy = pytest.mark.skipif(scipy_optimize is None, reason="scipy is not installed")

SHAPES = [(1, 1), (5, 5), (30, 30), (7, 12), (12, 7), (1, 9), (9, 1), (100, 20), (20, 100)]


@requires_scipy
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("maximize", [False, True])
def test_equals_scipy(shape, dtype, maximize):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    c = (rng.normal(size=shape) * 100).astype(dtype)
    rows, cols = cvkernels.linear_sum_assignment(c, maximize=maximize)
    r2, c2 = scipy_optimize.linear_sum_assignment(c, maximize=maximize)
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    np.testing.assert_array_equal(rows, r2)
    np.testing.assert_array_equal(cols, c2)


@requires_scipy
@pytest.mark.parametrize("seed", range(6))
def test_tied_integer_costs_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 25, size=2))
    c = rng.integers(0, 3, size=shape)  # many optimal assignments
    rows, cols = cvkernels.linear_sum_assignment(c)
    r2, c2 = scipy_optimize.linear_sum_assignment(c)
    assert c[rows, cols].sum() == c[r2, c2].sum()
    np.testing.assert_array_equal(cols, c2)  # the same algorithm and tie rules: the same choice


@requires_scipy
@pytest.mark.parametrize("shape", [(20, 100), (100, 20), (3, 64), (64, 3), (17, 17)])
@pytest.mark.parametrize("maximize", [False, True])
def test_ties_and_forbidden_cells_equal_scipy(shape, maximize):
    # The first step of each search (every column at once, then the tie rule) and the steps
    # after it (scipy's column order) both meet ties here; forbidden cells take the slow check.
    for seed in range(8):
        rng = np.random.default_rng(seed)
        c = rng.integers(0, 4, size=shape).astype(np.float64)
        if seed % 2:
            c[rng.uniform(size=shape) < 0.1] = -np.inf if maximize else np.inf
        try:
            r2, c2 = scipy_optimize.linear_sum_assignment(c, maximize=maximize)
        except ValueError:
            with pytest.raises(ValueError, match="infeasible"):
                cvkernels.linear_sum_assignment(c, maximize=maximize)
            continue
        rows, cols = cvkernels.linear_sum_assignment(c, maximize=maximize)
        np.testing.assert_array_equal(rows, r2)
        np.testing.assert_array_equal(cols, c2)


@pytest.mark.parametrize("seed", range(20))
def test_equals_the_exhaustive_reference(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=2))
    c = rng.uniform(0, 10, size=shape)
    c[rng.uniform(size=shape) < 0.2] = np.inf  # forbidden cells
    try:
        want = reference.assignment.linear_sum_assignment(c)
    except ValueError:
        with pytest.raises(ValueError, match="infeasible"):
            cvkernels.linear_sum_assignment(c)
        return
    rows, cols = cvkernels.linear_sum_assignment(c)
    assert len(set(cols.tolist())) == len(cols) and len(set(rows.tolist())) == len(rows)
    np.testing.assert_allclose(c[rows, cols].sum(), c[want].sum(), rtol=1e-12)


def test_empty_and_bad_matrices():
    for shape in [(0, 0), (0, 4), (4, 0)]:
        rows, cols = cvkernels.linear_sum_assignment(np.zeros(shape))
        assert rows.shape == cols.shape == (0,)
    c = np.array([[1.0, np.inf], [2.0, np.inf]])
    with pytest.raises(ValueError, match="cost matrix 0 is infeasible"):
        cvkernels.linear_sum_assignment(c)
    with pytest.raises(ValueError, match="cost matrix 1 contains invalid numeric entries"):
        cvkernels.linear_sum_assignment([np.eye(2), np.array([[np.nan, 1.0]])])
    with pytest.raises(ValueError, match="invalid numeric entries"):
        cvkernels.linear_sum_assignment(np.array([[-np.inf, 1.0]]))
    for bad in (np.nan, -np.inf):  # an invalid cell is reported before infeasibility, in any row or column
        for shape in [(3, 5), (5, 3), (4, 4), (1, 7)]:
            c = np.ones(shape)
            c[0, :] = np.inf  # row 0 cannot be assigned
            c[-1, -1] = bad
            for m in (c, c.astype(np.float32)):
                with pytest.raises(ValueError, match="invalid numeric entries"):
                    cvkernels.linear_sum_assignment(m)
    with pytest.raises(ValueError, match="invalid numeric entries"):  # +inf is -inf once maximized
        cvkernels.linear_sum_assignment(np.array([[np.inf, 1.0]]), maximize=True)
    np.testing.assert_array_equal(cvkernels.linear_sum_assignment(np.array([[-np.inf, 1.0]]), maximize=True)[1], [1])
    with pytest.raises(ValueError, match=r"\(N, M\) or \(B, N, M\)"):
        cvkernels.linear_sum_assignment(np.zeros(3))
    with pytest.raises(ValueError, match="sizes must have shape"):
        cvkernels.linear_sum_assignment(np.zeros((2, 3, 3)), sizes=[[1, 1]])
    with pytest.raises(ValueError, match="within the padded"):
        cvkernels.linear_sum_assignment(np.zeros((1, 3, 3)), sizes=[[4, 1]])
    with pytest.raises(TypeError, match="real numbers"):
        cvkernels.linear_sum_assignment(np.array([["a"]]))


@requires_scipy
def test_batches_list_and_padded():
    rng = np.random.default_rng(0)
    mats = [rng.normal(size=(int(rng.integers(0, 30)), int(rng.integers(0, 30)))) for _ in range(40)]
    got = cvkernels.linear_sum_assignment(mats)
    for m, (r, c) in zip(mats, got):
        r2, c2 = scipy_optimize.linear_sum_assignment(m)
        np.testing.assert_array_equal(r, r2)
        np.testing.assert_array_equal(c, c2)
    padded = np.full((len(mats), 30, 30), 1e9)
    sizes = np.array([m.shape for m in mats])
    for b, m in enumerate(mats):
        padded[b, : m.shape[0], : m.shape[1]] = m
    for (r, c), (r2, c2) in zip(cvkernels.linear_sum_assignment(padded, sizes=sizes), got):
        np.testing.assert_array_equal(r, r2)
        np.testing.assert_array_equal(c, c2)


@requires_scipy
def test_torch_inputs_give_cpu_index_tensors():
    torch = pytest.importorskip("torch")
    c = torch.randn(3, 6, 5, dtype=torch.float16)
    out = cvkernels.linear_sum_assignment(c)
    for b, (r, k) in enumerate(out):
        assert r.dtype == torch.int64 and k.device.type == "cpu"
        r2, c2 = scipy_optimize.linear_sum_assignment(c[b].float().numpy())
        assert r.tolist() == r2.tolist() and k.tolist() == c2.tolist()
    r, k = cvkernels.linear_sum_assignment(torch.eye(3))  # two optimal derangements: scipy's choice
    assert isinstance(r, torch.Tensor) and k.tolist() == scipy_optimize.linear_sum_assignment(np.eye(3))[1].tolist()


# --- hungarian_match: DETR's HungarianMatcher, written out as DETR's code computes it ---------------

def _detr_matcher(logits, boxes, targets, cost_class, cost_bbox, cost_giou):
    import torch

    def xyxy(b):
        x_c, y_c, w, h = b.unbind(-1)
        return torch.stack([(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)], dim=-1)

    def giou(b1, b2):
        area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
        area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
        lt = torch.max(b1[:, None, :2], b2[:, :2])
        rb = torch.min(b1[:, None, 2:], b2[:, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[:, :, 0] * wh[:, :, 1]
        union = area1[:, None] + area2 - inter
        iou = inter / union
        lt = torch.min(b1[:, None, :2], b2[:, :2])
        rb = torch.max(b1[:, None, 2:], b2[:, 2:])
        wh = (rb - lt).clamp(min=0)
        area = wh[:, :, 0] * wh[:, :, 1]
        return iou - (area - union) / area

    bs, nq = logits.shape[:2]
    out_prob = logits.flatten(0, 1).softmax(-1)
    out_bbox = boxes.flatten(0, 1)
    tgt_ids = torch.cat([v["labels"] for v in targets])
    tgt_bbox = torch.cat([v["boxes"] for v in targets])
    c_class = -out_prob[:, tgt_ids]
    c_bbox = torch.cdist(out_bbox, tgt_bbox, p=1)
    c_giou = -giou(xyxy(out_bbox), xyxy(tgt_bbox))
    C = cost_bbox * c_bbox + cost_class * c_class + cost_giou * c_giou
    C = C.view(bs, nq, -1).cpu()
    sizes = [len(v["boxes"]) for v in targets]
    idx = [scipy_optimize.linear_sum_assignment(c[i]) for i, c in enumerate(C.split(sizes, -1))]
    return [(torch.as_tensor(i, dtype=torch.int64), torch.as_tensor(j, dtype=torch.int64)) for i, j in idx]


def _detr_batch(torch, B, Q, C, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, Q, C, generator=g, dtype=dtype)
    boxes = torch.cat([torch.rand(B, Q, 2, generator=g, dtype=dtype) * 0.8 + 0.1,
                       torch.rand(B, Q, 2, generator=g, dtype=dtype) * 0.3 + 0.02], -1)
    targets = []
    for b in range(B):
        n = int(torch.randint(0, 21, (1,), generator=g)) if b else 0  # image 0 has no objects
        targets.append({"labels": torch.randint(0, C - 1, (n,), generator=g),
                        "boxes": torch.cat([torch.rand(n, 2, generator=g, dtype=dtype) * 0.8 + 0.1,
                                            torch.rand(n, 2, generator=g, dtype=dtype) * 0.3 + 0.02], -1)})
    return logits, boxes, targets


@requires_scipy
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (1.0, 5.0, 2.0), (2.0, 0.0, 0.5)])
def test_hungarian_match_equals_detr(dtype, weights):
    torch = pytest.importorskip("torch")
    logits, boxes, targets = _detr_batch(torch, 8, 100, 92, getattr(torch, dtype), seed=len(dtype))
    got = cvkernels.hungarian_match(logits, boxes, targets, *weights)
    want = _detr_matcher(logits, boxes, targets, *weights)
    assert len(got) == len(want)
    for (i, j), (i2, j2) in zip(got, want):
        assert i.dtype == torch.int64 and i.tolist() == i2.tolist() and j.tolist() == j2.tolist()
    # numpy inputs: the same matching
    np_targets = [{"labels": t["labels"].numpy(), "boxes": t["boxes"].numpy()} for t in targets]
    for (i, j), (i2, j2) in zip(cvkernels.hungarian_match(logits.numpy(), boxes.numpy(), np_targets, *weights), got):
        assert i.tolist() == i2.tolist() and j.tolist() == j2.tolist()


def test_hungarian_cost_equals_the_reference():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(1, 6, 5))
    boxes = np.concatenate([rng.uniform(0.2, 0.8, (1, 6, 2)), rng.uniform(0.05, 0.3, (1, 6, 2))], -1)
    labels = np.array([0, 3, 3, 1])
    gt = np.concatenate([rng.uniform(0.2, 0.8, (4, 2)), rng.uniform(0.05, 0.3, (4, 2))], -1)
    cost = reference.assignment.detr_cost(logits[0], boxes[0], labels, gt, 2.0, 5.0, 2.0)
    (i, j), = cvkernels.hungarian_match(logits, boxes, [{"labels": labels, "boxes": gt}], 2.0, 5.0, 2.0)
    want = reference.assignment.linear_sum_assignment(cost)
    assert i.tolist() == want[0].tolist() and j.tolist() == want[1].tolist()


def test_hungarian_match_bad_input():
    logits = np.zeros((2, 3, 4), np.float32)
    boxes = np.full((2, 3, 4), 0.5, np.float32)
    ok = {"labels": np.array([1]), "boxes": np.array([[0.5, 0.5, 0.2, 0.2]], np.float32)}
    with pytest.raises(ValueError, match="targets must be a list of 2"):
        cvkernels.hungarian_match(logits, boxes, [ok])
    with pytest.raises(ValueError, match=r"label 4 is outside \[0, 4\)"):
        cvkernels.hungarian_match(logits, boxes, [ok, dict(ok, labels=np.array([4]))])
    with pytest.raises(ValueError, match="pred_boxes must be"):
        cvkernels.hungarian_match(logits, boxes[:, :2], [ok, ok])
    with pytest.raises(ValueError, match="'labels' and 'boxes'"):
        cvkernels.hungarian_match(logits, boxes, [ok, {"labels": np.array([1])}])
    with pytest.raises(TypeError, match="must be integers"):
        cvkernels.hungarian_match(logits, boxes, [ok, dict(ok, labels=np.array([1.0]))])
