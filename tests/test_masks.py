"""Mask metrics: dice_score / iou_score against the one-hot reference and torchmetrics,
every input format and dtype, edge cases and errors; dice_loss against the reference with
gradcheck; pairwise IoU / Dice against a matmul and pycocotools."""

import warnings

import numpy as np
import pytest

import cvkernels
from cvkernels.reference import masks as ref
from conftest import requires_torch, torch

try:
    import torchmetrics.functional.segmentation as tms
    from torchmetrics.classification import MulticlassJaccardIndex
except Exception:  # noqa: BLE001
    tms = None
requires_tm = pytest.mark.skipif(tms is None, reason="torchmetrics is not installed")


def ref_scores(kind, pm, tm, keep=None, average="macro", include_background=True, level="samplewise", drop=None):
    I, P, T = (x.astype(np.float64) for x in ref.counts(pm, tm, keep))
    C = I.shape[1]
    cls = list(range(1, C) if not include_background and C > 1 else range(C))
    if drop is not None and average != "none" and drop in cls:
        cls.remove(drop)
    I, P, T = I[:, cls], P[:, cls], T[:, cls]
    if level == "global":
        I, P, T = I.sum(0, keepdims=True), P.sum(0, keepdims=True), T.sum(0, keepdims=True)
    f = ref.dice if kind == "dice" else ref.iou
    if average == "micro":
        return f(I.sum(-1), P.sum(-1), T.sum(-1))
    v = f(I, P, T)
    if average == "none":
        return v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(v, axis=-1)


@pytest.mark.parametrize("kind", ["dice", "iou"])
@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int64, np.float32])
def test_binary_masks(rng, kind, dtype):
    p = rng.uniform(size=(5, 17, 9)) > 0.6
    t = rng.uniform(size=(5, 17, 9)) > 0.4
    p[2] = False  # an empty prediction
    p[3] = t[3] = False  # empty on both sides: undefined
    conv = (lambda x: x.astype(np.float32) * 0.9) if dtype == np.float32 else (lambda x: x.astype(dtype))
    fn = getattr(cvkernels, f"{kind}_score")
    got = fn(conv(p), conv(t))
    want = ref_scores(kind, ref.class_membership(p, 1, "binary"), ref.class_membership(t, 1, "binary"))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.isnan(got[3])
    np.testing.assert_array_equal(fn(p[:, None], t[:, None]), got)  # (N, 1, H, W)
    assert fn(p, t, zero_division=1.0)[3] == 1.0
    assert fn(p, t, smooth=1.0)[3] == 1.0


@pytest.mark.parametrize("kind", ["dice", "iou"])
@pytest.mark.parametrize("average", ["micro", "macro", "none"])
@pytest.mark.parametrize("level", ["samplewise", "global"])
@pytest.mark.parametrize("include_background", [True, False])
def test_label_maps(rng, kind, average, level, include_background):
    C = 6
    p = rng.integers(0, C, (4, 13, 11))
    t = rng.integers(0, C - 1, (4, 13, 11))  # class C-1 never in the target
    fn = getattr(cvkernels, f"{kind}_score")
    got = fn(p, t, num_classes=C, average=average, aggregation_level=level, include_background=include_background)
    want = ref_scores(kind, ref.class_membership(p, C, "labels"), ref.class_membership(t, C, "labels"), None, average,
                      include_background, level)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ignore_index(rng):
    C = 4
    p = rng.integers(0, C, (3, 10, 10))
    t = rng.integers(0, C, (3, 10, 10))
    t[:, :3] = 255
    p[0, 0, 0] = 2
    got = cvkernels.iou_score(p, t, num_classes=C, ignore_index=255)
    keep = (t != 255).reshape(3, -1)
    pm = ref.class_membership(p, C, "labels")
    tm = ref.class_membership(np.where(t == 255, 0, t), C, "labels")
    np.testing.assert_allclose(got, ref_scores("iou", pm, tm, keep), rtol=1e-12)
    # an ignore_index inside [0, C) skips those pixels and leaves the class out of the mean
    got0 = cvkernels.dice_score(p, t.clip(0, C - 1), num_classes=C, ignore_index=0)
    keep0 = (t.clip(0, C - 1) != 0).reshape(3, -1)
    want0 = ref_scores("dice", pm, ref.class_membership(t.clip(0, C - 1), C, "labels"), keep0, drop=0)
    np.testing.assert_allclose(got0, want0, rtol=1e-12)


@pytest.mark.parametrize("C", [2, 3, 21, 32, 64, 65, 200])
@pytest.mark.parametrize("simd", ["avx512", "avx2", "baseline"])
def test_label_counts_layouts(rng, C, simd):
    """Up to 64 classes the counts come from a 2^k x 2^k confusion matrix: values in [C, 2^k)
    must still be errors, an ignore_index inside or outside that square must drop its pixels;
    beyond 64 classes from three histograms. Every SIMD path of the bin computation."""
    switch = {"avx512": None, "avx2": cvkernels._C.set_avx512_enabled,
              "baseline": cvkernels._C.set_simd_enabled}[simd]
    if switch:
        switch(False)
    try:
        p = rng.integers(0, C, (3, 37, 29))
        t = np.where(rng.random(p.shape) < 0.6, p, rng.integers(0, C, p.shape))
        for ig in (None, 255, -1, C - 1, C + 1):
            tt = t.copy()
            if ig is not None:
                tt[:, :4] = ig
                tt[1, 5, 5] = ig
            got = cvkernels.iou_score(p, tt, num_classes=C, ignore_index=ig, average="none")
            keep = np.ones(p.shape, bool) if ig is None else tt != ig
            pm = ref.class_membership(p, C, "labels")
            tm = ref.class_membership(np.where(keep, tt, 0), C, "labels")
            want = ref_scores("iou", pm, tm, keep.reshape(3, -1), average="none")
            np.testing.assert_allclose(got, want, rtol=1e-12)
        for bad in (C, C + 3, 2 * C + 5, -2):  # inside and outside the padded square
            pb = p.copy()
            pb[2, 36, 28] = bad
            with pytest.raises(ValueError, match=rf"label {bad} is outside"):
                cvkernels.dice_score(pb, t, num_classes=C)
    finally:
        if switch:
            switch(True)


def test_one_hot_scores_and_mixed(rng):
    C = 5
    lab_p = rng.integers(0, C, (3, 8, 9))
    lab_t = rng.integers(0, C, (3, 8, 9))
    onehot = lambda lab: np.moveaxis(np.eye(C, dtype=np.int64)[lab], -1, 1)  # noqa: E731
    scores = rng.normal(size=(3, C, 8, 9)).astype(np.float32)
    want = cvkernels.dice_score(lab_p, lab_t, num_classes=C, average="none")
    np.testing.assert_array_equal(cvkernels.dice_score(onehot(lab_p), onehot(lab_t), average="none"), want)
    np.testing.assert_array_equal(cvkernels.dice_score(onehot(lab_p), lab_t, average="none"), want)  # mixed
    np.testing.assert_array_equal(cvkernels.dice_score(lab_p, onehot(lab_t), average="none"), want)
    np.testing.assert_array_equal(cvkernels.dice_score(scores, lab_t, average="none"),
                                  cvkernels.dice_score(scores.argmax(1), lab_t, num_classes=C, average="none"))
    multi = onehot(lab_p) | onehot(lab_t)  # multi-hot planes are fine as planes
    want = ref_scores("iou", multi.reshape(3, C, -1) != 0, onehot(lab_t).reshape(3, C, -1) != 0)
    np.testing.assert_allclose(cvkernels.iou_score(multi, onehot(lab_t)), want, rtol=1e-12)


def test_edge_cases(rng):
    one = np.zeros((1, 1, 1), bool)
    assert np.isnan(cvkernels.dice_score(one, one)[0])
    px = one.copy()
    px[0, 0, 0] = True
    assert cvkernels.dice_score(px, px)[0] == 1.0 and cvkernels.iou_score(px, one)[0] == 0.0
    row = rng.uniform(size=(2, 1, 33)) > 0.5  # H = 1
    col = rng.uniform(size=(2, 33, 1)) > 0.5  # W = 1
    for m in (row, col):
        np.testing.assert_allclose(cvkernels.dice_score(m, m[::-1]), ref_scores(
            "dice", ref.class_membership(m, 1, "binary"), ref.class_membership(m[::-1], 1, "binary")))
    bg = np.zeros((2, 5, 5), np.int64)  # all background
    np.testing.assert_array_equal(cvkernels.dice_score(bg, bg, num_classes=3, average="none")[:, 0], [1.0, 1.0])
    big = rng.uniform(size=(3, 300, 260)) > 0.5  # several chunks per plane
    np.testing.assert_allclose(cvkernels.iou_score(big, big[::-1]), ref_scores(
        "iou", ref.class_membership(big, 1, "binary"), ref.class_membership(big[::-1], 1, "binary")))
    nc = rng.integers(0, 3, (4, 10, 12)).transpose(0, 2, 1)  # non-contiguous
    np.testing.assert_array_equal(cvkernels.dice_score(nc, nc[::-1], num_classes=3),
                                  cvkernels.dice_score(nc.copy(), nc[::-1].copy(), num_classes=3))


def test_bad_inputs(rng):
    lab = rng.integers(0, 3, (2, 4, 4))
    with pytest.raises(ValueError, match=r"label 7 is outside \[0, 3\)"):
        cvkernels.dice_score(lab, np.full_like(lab, 7), num_classes=3)
    with pytest.raises(ValueError, match="label maps must both be"):
        cvkernels.dice_score(lab, lab[:, :2], num_classes=3)
    with pytest.raises(ValueError, match="must have shape"):
        cvkernels.iou_score(lab[0], lab[0])
    with pytest.raises(ValueError, match="average"):
        cvkernels.dice_score(lab, lab, num_classes=3, average="weird")
    with pytest.raises(TypeError, match="label maps must be integers"):
        cvkernels.dice_score(lab.astype(np.float32), lab, num_classes=3)
    with pytest.raises(ValueError, match="num_classes=4 does not match"):
        cvkernels.dice_score(np.zeros((1, 3, 2, 2)), np.zeros((1, 3, 2, 2)), num_classes=4)
    with pytest.raises(ValueError, match="same \\(H, W\\)"):
        cvkernels.pairwise_mask_iou(np.zeros((1, 2, 2)), np.zeros((1, 3, 2)))


# --- dice_loss -------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["softmax", "sigmoid", None])
def test_dice_loss_matches_reference(rng, activation):
    x = rng.normal(size=(2, 4, 7, 6))
    if activation is None:
        x = np.abs(x) / np.abs(x).sum(1, keepdims=True)
    lab = rng.integers(0, 4, (2, 7, 6))
    w = np.array([0.5, 1.0, 2.0, 1.5])
    for target, kw in ((lab, {}), (np.moveaxis(np.eye(4)[lab], -1, 1), {}), (lab, {"weight": w, "smooth": 1.0})):
        got = cvkernels.dice_loss(x, target, activation=activation, **kw)
        assert got == pytest.approx(ref.soft_dice_loss(x, target, activation, **kw), rel=1e-12)
    lab2 = lab.copy()
    lab2[:, 0] = -1
    got = cvkernels.dice_loss(x, lab2, activation=activation, ignore_index=-1)
    assert got == pytest.approx(ref.soft_dice_loss(x, lab2, activation, ignore_index=-1), rel=1e-12)
    x32 = x.astype(np.float32)
    assert cvkernels.dice_loss(x32, lab, activation=activation) == pytest.approx(
        ref.soft_dice_loss(x32, lab, activation), rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dice_loss_ignore_index_inside_the_classes(rng, dtype):
    # An ignored pixel is neither a target nor a prediction of any class, also when the
    # ignored label is itself a class (it used to count as a target of that class).
    x = np.array([[[[2, 0, 0, 0]], [[0, 2, 0, 0]]]], dtype)
    t = np.array([[[0, 1, 0, 1]]])
    want = ref.soft_dice_loss(x, t, "softmax", ignore_index=0)
    assert want == pytest.approx(0.5916, abs=1e-4)
    assert cvkernels.dice_loss(x, t, ignore_index=0) == pytest.approx(want, rel=1e-6)
    x = rng.normal(size=(2, 3, 5, 4)).astype(dtype)
    lab = rng.integers(0, 3, (2, 5, 4))
    for ig in (0, 2):
        for act in ("softmax", "sigmoid"):
            got = cvkernels.dice_loss(x, lab, activation=act, ignore_index=ig)
            assert got == pytest.approx(ref.soft_dice_loss(x, lab, act, ignore_index=ig), rel=1e-5)
    if torch is not None:
        xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
        lt = torch.from_numpy(lab)
        assert torch.autograd.gradcheck(lambda v: cvkernels.dice_loss(v, lt, ignore_index=1), (xt,))


def test_dice_loss_half_input_and_no_channels():
    x = np.zeros((1, 2, 2, 2), np.float16)
    t = np.zeros((1, 2, 2), np.int64)
    assert cvkernels.dice_loss(x, t) == pytest.approx(ref.soft_dice_loss(x, t, "softmax"), rel=1e-3)
    assert cvkernels.dice_loss(x, t).dtype == np.float16
    with pytest.raises(ValueError, match="at least one channel"):
        cvkernels.dice_loss(np.zeros((1, 0, 2, 2), np.float32), t)
    if torch is not None:
        with pytest.raises(ValueError, match="at least one channel"):
            cvkernels.dice_loss(torch.zeros(1, 0, 2, 2), torch.from_numpy(t))


@requires_torch
def test_dice_loss_gradcheck_and_opcheck(rng):
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    lab = torch.from_numpy(rng.integers(0, 3, (2, 4, 5)))
    dense = torch.rand(2, 3, 4, 5, dtype=torch.float64)
    for act in ("softmax", "sigmoid"):
        assert torch.autograd.gradcheck(lambda t: cvkernels.dice_loss(t, lab, activation=act, smooth=0.5), (x,))
        assert torch.autograd.gradcheck(lambda t: cvkernels.dice_loss(t, dense, activation=act), (x,))
    lab_ig = lab.clone()
    lab_ig[0, 0] = 9
    assert torch.autograd.gradcheck(lambda t: cvkernels.dice_loss(t, lab_ig, ignore_index=9), (x,))
    torch.library.opcheck(torch.ops.cvkernels.dice_stats, (x, lab, 2, -1))
    torch.library.opcheck(torch.ops.cvkernels.dice_stats, (x, dense, 1, -1))
    torch.library.opcheck(torch.ops.cvkernels.mask_counts, (lab, lab.flip(0), 3, "index", -(2**62)))
    m = torch.rand(3, 6, 7) > 0.5
    torch.library.opcheck(torch.ops.cvkernels.pairwise_masks, (m, m[:2], False))
    # the float32 kernel (vectorized exp) agrees with float64
    x32 = x.detach().float().requires_grad_()
    l32 = cvkernels.dice_loss(x32, lab)
    l32.backward()
    x64 = x.detach().clone().requires_grad_()
    cvkernels.dice_loss(x64, lab).backward()
    torch.testing.assert_close(x32.grad.double(), x64.grad, rtol=1e-4, atol=1e-6)


@requires_torch
def test_torch_inputs(rng):
    p = torch.from_numpy(rng.integers(0, 4, (3, 9, 9)))
    t = torch.from_numpy(rng.integers(0, 4, (3, 9, 9)))
    got = cvkernels.iou_score(p, t, num_classes=4, average="none")
    assert isinstance(got, torch.Tensor)
    np.testing.assert_array_equal(got.numpy(), cvkernels.iou_score(p.numpy(), t.numpy(), num_classes=4, average="none"))
    b = torch.rand(4, 20, 20) > 0.5
    np.testing.assert_array_equal(cvkernels.dice_score(b, b.flip(0)).numpy(), cvkernels.dice_score(b.numpy(), b.flip(0).numpy()))


# --- pairwise --------------------------------------------------------------------------------

def blobs(rng, n, h, w):
    """Object-like masks: filled ellipses."""
    yy, xx = np.mgrid[:h, :w]
    m = np.zeros((n, h, w), bool)
    for k in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(2, h / 3), rng.uniform(2, w / 3)
        m[k] = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return m


def test_pairwise_matches_matmul(rng):
    a, b = blobs(rng, 12, 37, 130), blobs(rng, 9, 37, 130)
    a[3] = False  # empty
    np.testing.assert_allclose(cvkernels.pairwise_mask_iou(a, b), ref.pairwise_iou(a, b), rtol=1e-12)
    np.testing.assert_allclose(cvkernels.pairwise_mask_dice(a, b), ref.pairwise_iou(a, b, True), rtol=1e-12)
    assert cvkernels.pairwise_mask_iou(a[:0], b).shape == (0, 9)
    if torch is not None:
        got = cvkernels.pairwise_mask_iou(torch.from_numpy(a), torch.from_numpy(b))
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, torch.from_numpy(ref.pairwise_iou(a, b)).float())


def test_pairwise_matches_pycocotools(rng):
    mask = pytest.importorskip("pycocotools.mask")
    a, b = blobs(rng, 8, 64, 48), blobs(rng, 5, 64, 48)
    ra = mask.encode(np.asfortranarray(a.transpose(1, 2, 0).astype(np.uint8)))
    rb = mask.encode(np.asfortranarray(b.transpose(1, 2, 0).astype(np.uint8)))
    np.testing.assert_allclose(cvkernels.pairwise_mask_iou(a, b), mask.iou(ra, rb, [0] * len(rb)), rtol=1e-12)


# --- torchmetrics parity -----------------------------------------------------------------------

@requires_tm
@pytest.mark.parametrize("average", ["micro", "macro", "none"])
@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("level", ["samplewise", "global"])
def test_torchmetrics_dice_parity(rng, average, include_background, level):
    C = 5
    p = torch.from_numpy(rng.integers(0, C, (4, 16, 16)))
    t = torch.from_numpy(rng.integers(0, C - 1, (4, 16, 16)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = tms.dice_score(p, t, num_classes=C, include_background=include_background, average=average,
                              input_format="index", aggregation_level=level)
    got = cvkernels.dice_score(p, t, num_classes=C, include_background=include_background, average=average,
                               aggregation_level=level)
    torch.testing.assert_close(got.float(), want.float(), equal_nan=True)
    onehot = lambda x: torch.nn.functional.one_hot(x, C).movedim(-1, 1)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = tms.dice_score(onehot(p), onehot(t), num_classes=C, include_background=include_background,
                              average=average, aggregation_level=level)
    torch.testing.assert_close(cvkernels.dice_score(onehot(p), onehot(t), include_background=include_background,
                                                    average=average, aggregation_level=level).float(),
                               want.float(), equal_nan=True)


@requires_tm
@pytest.mark.parametrize("include_background", [True, False])
def test_torchmetrics_iou_parity(rng, include_background):
    C = 5
    p = torch.from_numpy(rng.integers(0, C, (4, 16, 16)))
    t = torch.from_numpy(rng.integers(0, C - 1, (4, 16, 16)))
    want = tms.mean_iou(p, t, num_classes=C, include_background=include_background, input_format="index")
    torch.testing.assert_close(cvkernels.iou_score(p, t, num_classes=C, include_background=include_background).float(),
                               want.float())
    per_class = tms.mean_iou(p, t, num_classes=C, include_background=include_background, input_format="index",
                             per_class=True)
    ours = cvkernels.iou_score(p, t, num_classes=C, include_background=include_background, average="none")
    torch.testing.assert_close(ours.nan_to_num(-1.0).float(), per_class.float())  # torchmetrics writes -1 for NaN
    t_ig = t.clone()
    t_ig[:, :4] = 255
    jac = MulticlassJaccardIndex(num_classes=C, ignore_index=255, average="macro")(p, t_ig)
    torch.testing.assert_close(cvkernels.iou_score(p, t_ig, num_classes=C, ignore_index=255, aggregation_level="global")[0].float(),
                               jac.float())


@pytest.mark.skipif(torch is None or not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(rng):
    lab_p = torch.from_numpy(rng.integers(0, 5, (3, 40, 30)))
    lab_t = torch.from_numpy(rng.integers(0, 5, (3, 40, 30)))
    for fmt_args in ((lab_p, lab_t, 5), (lab_p > 2, lab_t > 2, None)):
        p, t, nc = fmt_args
        torch.testing.assert_close(cvkernels.dice_score(p.cuda(), t.cuda(), num_classes=nc, average="none").cpu(),
                                   cvkernels.dice_score(p, t, num_classes=nc, average="none"), equal_nan=True)
    x = torch.randn(2, 5, 40, 30, dtype=torch.float64)
    for xx in (x, x.float()):
        xc = xx.cuda().requires_grad_()
        xh = xx.clone().requires_grad_()
        lc, lh = cvkernels.dice_loss(xc, lab_t[:2].cuda()), cvkernels.dice_loss(xh, lab_t[:2])
        torch.testing.assert_close(lc.cpu(), lh, rtol=1e-5, atol=1e-6)
        lc.backward()
        lh.backward()
        torch.testing.assert_close(xc.grad.cpu(), xh.grad, rtol=1e-4, atol=1e-6)
    m = torch.from_numpy(blobs(rng, 7, 50, 70))
    torch.testing.assert_close(cvkernels.pairwise_mask_iou(m.cuda(), m[:4].cuda()).cpu(),
                               cvkernels.pairwise_mask_iou(m, m[:4]))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_cuda_label_count_fallback_beyond_4096_classes_on_cpu_tensors(rng):
    # the CUDA path's bincount fallback (used beyond the kernel's 4,096 classes) is plain torch:
    # checked here on CPU tensors against the CPU kernel's counts
    from cvkernels._launch.masks_cuda import label_counts_bincount

    C = 5000
    p = torch.from_numpy(rng.integers(0, C, (3, 2000)))
    t = torch.where(torch.from_numpy(rng.random((3, 2000)) < 0.5), p, torch.from_numpy(rng.integers(0, C, (3, 2000))))
    t[0, :10] = -1
    got = label_counts_bincount(torch, p, t, 3, C, -1)
    want = torch.ops.cvkernels.mask_counts(p.reshape(3, 40, 50), t.reshape(3, 40, 50), C, "index", -1)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w.to(g.dtype), rtol=0, atol=0)
    bad = t.clone()
    bad[1, 3] = C
    with pytest.raises(ValueError, match=f"label {C} is outside"):
        label_counts_bincount(torch, p, bad, 3, C, -1)
