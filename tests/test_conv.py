"""dilated_conv2d: against the numpy reference and torch.nn.functional.conv2d over a grid of
shapes (values and all three gradients), gradcheck, opcheck, the numpy path, the SIMD and
scalar paths, DilatedConv2d / ASPP against torch's modules, and errors."""

import itertools

import numpy as np
import pytest

import cvkernels
from cvkernels import reference as ref
from conftest import requires_cuda, requires_torch, torch

if torch is not None:
    import torch.nn.functional as F

try:
    from torchvision.models.segmentation.deeplabv3 import ASPP as TvASPP
except Exception:  # noqa: BLE001
    TvASPP = None


# (N, Cin, H, W, Cout, K, stride, padding, dilation, groups): batch 1..4, channels 1..64,
# kernel 1..5, stride 1..2, dilation 1..18, groups 1/2/depthwise, odd sizes, padding larger
# than the kernel, "same" with even kernels.
GRID = [
    (1, 1, 5, 5, 1, 1, 1, 0, 1, 1),
    (2, 3, 7, 9, 4, 3, 1, 1, 1, 1),
    (1, 8, 13, 11, 6, 3, 2, 4, 3, 2),
    (3, 5, 6, 6, 10, 5, 1, "same", 2, 5),
    (1, 4, 8, 8, 4, 2, 1, "same", 3, 1),
    (4, 6, 9, 7, 6, 3, 2, 7, 1, 6),
    (1, 16, 20, 21, 16, 3, 1, 18, 18, 16),
    (2, 64, 17, 15, 32, 3, 1, "same", 6, 1),
    (1, 32, 33, 35, 64, 3, 1, 12, 12, 2),
    (1, 7, 11, 19, 9, 4, 2, (3, 6), (2, 5), 1),
    (2, 12, 10, 10, 8, 5, 1, 9, 4, 4),
    (1, 3, 3, 3, 2, 3, 2, 18, 18, 1),
    (1, 64, 9, 9, 64, 1, 2, 0, 1, 64),
    (1, 2, 40, 3, 5, 3, 1, "valid", (6, 1), 1),
    (1, 3, 6, 7, 4, 3, 1, 5, 1, 1),  # padding beyond the dilated kernel: negative padding in grad_x
]


def _inputs(rng, case, dtype=np.float64):
    N, C, H, W, Co, k, s, p, d, g = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((Co, C // g, k, k)).astype(dtype)
    b = rng.standard_normal(Co).astype(dtype)
    return x, w, b, dict(stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.parametrize("case", GRID)
def test_numpy_matches_reference(rng, case):
    x, w, b, kw = _inputs(rng, case)
    want = ref.dilated_conv2d(x, w, b, **kw)
    np.testing.assert_allclose(cvkernels.dilated_conv2d(x, w, b, **kw), want, rtol=1e-10, atol=1e-10)
    got32 = cvkernels.dilated_conv2d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), **kw)
    assert got32.dtype == np.float32
    scale = np.abs(want).max() + 1
    np.testing.assert_allclose(got32, want, rtol=1e-4, atol=1e-4 * scale)


WINOGRAD = [  # float32 3x3 stride-1 one-group convolutions with >= 8 channels and >= 64 outputs
    (1, 8, 8, 8, 8, 3, 1, 1, 1, 1),  # 16 tiles: the last MR group is padding
    (2, 13, 21, 17, 11, 3, 1, "same", 2, 1),
    (1, 24, 30, 30, 20, 3, 1, 18, 18, 1),
    (1, 9, 12, 40, 10, 3, 1, (0, 5), (1, 5), 1),
    (1, 16, 15, 15, 16, 3, 1, 7, 1, 1),  # padding beyond the kernel
    (1, 300, 11, 13, 12, 3, 1, "same", 3, 1),  # more input channels than one k slice
    (1, 8, 1, 100, 9, 3, 1, 1, 1, 1),  # one output row: no tile has a second row
    (1, 10, 12, 12, 8, 3, 1, "same", 40, 1),  # dilation beyond the image: one output per sub-grid
]


@pytest.mark.parametrize("case", WINOGRAD)
def test_winograd_matches_reference_and_gemm_path(rng, case):
    """Float32 3x3 stride-1 convolutions run as Winograd F(2x2,3x3) on the dilation sub-grids:
    within the float32 contract of the reference, and close to the GEMM path it replaces."""
    x, w, b, kw = _inputs(rng, case)
    want = ref.dilated_conv2d(x, w, b, **kw)
    x32, w32, b32 = x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)
    wino = cvkernels.dilated_conv2d(x32, w32, b32, **kw)
    cvkernels._C.set_conv_winograd_enabled(False)
    try:
        direct = cvkernels.dilated_conv2d(x32, w32, b32, **kw)
    finally:
        cvkernels._C.set_conv_winograd_enabled(True)
    scale = np.abs(want).max() + 1
    np.testing.assert_allclose(wino, want, rtol=1e-4, atol=1e-5 * scale)
    np.testing.assert_allclose(wino, direct, rtol=1e-4, atol=1e-5 * scale)
    assert not np.array_equal(wino, direct)  # the Winograd path did run (other rounding)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_inputs_give_what_the_direct_sum_gives(rng, bad):
    # Winograd's transforms would turn one inf into NaN (inf - inf) and spread a NaN over a
    # whole tile: such inputs take the GEMM path, whose every output is the direct sum.
    x = rng.normal(size=(1, 16, 12, 12)).astype(np.float32)
    w = rng.normal(size=(16, 16, 3, 3)).astype(np.float32)
    x[0, 3, 5, 6] = bad
    got = cvkernels.dilated_conv2d(x, w, padding=1, dilation=1)
    cvkernels._C.set_conv_winograd_enabled(False)
    try:
        direct = cvkernels.dilated_conv2d(x, w, padding=1, dilation=1)
    finally:
        cvkernels._C.set_conv_winograd_enabled(True)
    np.testing.assert_array_equal(got, direct)
    assert np.isnan(got).sum() == np.isnan(direct).sum() and np.isinf(got).sum() == np.isinf(direct).sum()
    if torch is not None:
        t = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
        assert np.array_equal(np.isinf(got), np.isinf(t.numpy())) and np.array_equal(np.isnan(got), np.isnan(t.numpy()))


@requires_torch
def test_winograd_gradients(rng):
    """grad_input at stride 1 is a forward convolution with the flipped kernel: Winograd too."""
    x, w, b, kw = _inputs(rng, (2, 12, 14, 16, 10, 3, 1, "same", 3, 1), np.float32)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    g = torch.tensor(rng.standard_normal((2, 10, 14, 16)).astype(np.float32))
    cvkernels.dilated_conv2d(xt, wt, None, **kw).backward(g)
    x2, w2 = torch.tensor(x, dtype=torch.float64, requires_grad=True), torch.tensor(w, dtype=torch.float64,
                                                                                    requires_grad=True)
    F.conv2d(x2, w2, None, 1, "same", 3).backward(g.double())
    for got, want in ((xt.grad, x2.grad), (wt.grad, w2.grad)):
        scale = want.abs().max().item() + 1
        np.testing.assert_allclose(got.double().numpy(), want.numpy(), rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("path", ["baseline", "avx2"])
def test_other_simd_paths_match(rng, path):
    """The scalar micro-kernel and (on an AVX-512 CPU) the AVX2 one against the reference."""
    x, w, b, kw = _inputs(rng, (2, 16, 19, 23, 20, 3, 1, "same", 5, 1), np.float32)
    fast = cvkernels.dilated_conv2d(x, w, b, **kw)
    switch = cvkernels._C.set_simd_enabled if path == "baseline" else cvkernels._C.set_avx512_enabled
    switch(False)
    try:
        assert cvkernels._C.simd_level() in ((path,) if path == "baseline" else ("avx2", "baseline"))
        slow = cvkernels.dilated_conv2d(x, w, b, **kw)
    finally:
        switch(True)
    want = ref.dilated_conv2d(x, w, b, **kw)
    np.testing.assert_allclose(slow, want, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-4)


def test_numpy_example():
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    out = cvkernels.dilated_conv2d(x, np.ones((1, 1, 2, 2), np.float32), dilation=2)
    assert out[0, 0, 0, 0] == 0 + 2 + 10 + 12
    np.testing.assert_array_equal(out, ref.dilated_conv2d(x, np.ones((1, 1, 2, 2)), dilation=2))


@requires_torch
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's own warning
@pytest.mark.parametrize("case", GRID)
def test_torch_matches_conv2d_with_gradients(rng, case):
    x, w, b, kw = _inputs(rng, case)
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        tx, tw, tb = (torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
        out = cvkernels.dilated_conv2d(tx, tw, tb, **kw)
        want = F.conv2d(tx, tw, tb, **kw)
        assert out.shape == want.shape and out.dtype == dtype
        scale = want.abs().max().item() + 1
        torch.testing.assert_close(out, want, rtol=tol, atol=tol * scale)
        go = torch.randn_like(want)
        got = torch.autograd.grad(out, (tx, tw, tb), go)
        exp = torch.autograd.grad(want, (tx, tw, tb), go)
        for name, a, e in zip(("input", "weight", "bias"), got, exp):
            torch.testing.assert_close(a, e, rtol=tol, atol=tol * (e.abs().max().item() + 1), msg=name)


@requires_torch
def test_gradcheck():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 7, 6, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(6, 2, 3, 2, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, generator=g, requires_grad=True)
    for kw in (dict(padding=2, dilation=(2, 3), groups=2), dict(stride=2, padding=(1, 0), groups=2),
               dict(padding="same", dilation=2, groups=2)):
        assert torch.autograd.gradcheck(lambda *a: cvkernels.dilated_conv2d(*a, **kw), (x, w, b))


@requires_torch
def test_backward_without_bias_and_partial_grads(rng):
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    (gw,) = torch.autograd.grad(cvkernels.dilated_conv2d(x, w, None, padding=2, dilation=2).sum(), (w,))
    (ew,) = torch.autograd.grad(F.conv2d(x, w, None, padding=2, dilation=2).sum(), (w,))
    torch.testing.assert_close(gw, ew)


@requires_torch
def test_opcheck():
    ops = torch.ops.cvkernels
    x = torch.randn(2, 4, 7, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    torch.library.opcheck(ops.dilated_conv2d, (x, w, b, [1, 2], [2, 1, 3, 1], [2, 1], 2))
    torch.library.opcheck(ops.dilated_conv2d, (x, w, None, [1, 1], [0, 0, 0, 0], [1, 1], 2))
    out = ops.dilated_conv2d(x, w, b, [1, 2], [2, 1, 3, 1], [2, 1], 2)
    g = torch.randn_like(out)
    torch.library.opcheck(ops._dilated_conv2d_backward, (g, x.detach(), w.detach(), [1, 2], [2, 1, 3, 1], [2, 1], 2,
                                                         [True, True, True]))


@requires_torch
def test_half_int_and_empty_inputs():
    x = torch.randn(1, 2, 6, 6)
    w = torch.randn(3, 2, 3, 3)
    out = cvkernels.dilated_conv2d(x.half(), w.half(), padding=1)
    assert out.dtype == torch.float16
    torch.testing.assert_close(out.float(), F.conv2d(x.half().float(), w.half().float(), padding=1), rtol=1e-2,
                               atol=1e-2)
    xi = torch.randint(0, 5, (1, 2, 6, 6))
    assert cvkernels.dilated_conv2d(xi, w.double()).dtype == torch.float64
    empty = cvkernels.dilated_conv2d(torch.randn(0, 2, 6, 6), w, padding=1)
    assert empty.shape == (0, 3, 6, 6)
    e = torch.randn(0, 2, 6, 6, requires_grad=True)
    we = w.clone().requires_grad_()
    cvkernels.dilated_conv2d(e, we, torch.zeros(3, requires_grad=True)).sum().backward()
    assert we.grad.abs().sum() == 0 and e.grad.shape == e.shape
    assert cvkernels.dilated_conv2d(np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3))).shape == (0, 3, 3, 3)


@requires_torch
def test_compile():
    x = torch.randn(1, 4, 12, 12)
    w = torch.randn(4, 4, 3, 3)
    f = torch.compile(lambda a, b: cvkernels.dilated_conv2d(a, b, padding="same", dilation=3), fullgraph=True)
    torch.testing.assert_close(f(x, w), F.conv2d(x, w, padding="same", dilation=3), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(weight_shape=(4, 3, 3, 3), groups=2), ValueError, "groups"),
        (dict(weight_shape=(4, 2, 3, 3)), ValueError, "weight"),
        (dict(weight_shape=(4, 4, 3)), ValueError, "weight"),
        (dict(input_shape=(4, 8, 8)), ValueError, "input"),
        (dict(bias_shape=(5,)), ValueError, "bias"),
        (dict(stride=0), ValueError, "stride"),
        (dict(dilation=(1, 0)), ValueError, "dilation"),
        (dict(padding=-1), ValueError, "padding"),
        (dict(padding="full"), ValueError, "padding"),
        (dict(padding="same", stride=2), ValueError, "stride"),
        (dict(padding=1.5), TypeError, "padding"),
        (dict(groups=0), ValueError, "groups"),
        (dict(weight_shape=(4, 4, 9, 9)), ValueError, "smaller than the dilated kernel"),
        (dict(dilation=5), ValueError, "smaller than the dilated kernel"),
    ],
)
def test_errors(kwargs, exc, match):
    kw = dict(kwargs)
    x = np.zeros(kw.pop("input_shape", (1, 4, 8, 8)), np.float32)
    w = np.zeros(kw.pop("weight_shape", (4, 4, 3, 3)), np.float32)
    bs = kw.pop("bias_shape", None)
    b = None if bs is None else np.zeros(bs, np.float32)
    with pytest.raises(exc, match=match):
        cvkernels.dilated_conv2d(x, w, b, **kw)
    if torch is not None:
        with pytest.raises(exc, match=match):
            cvkernels.dilated_conv2d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else
                                     torch.from_numpy(b), **kw)


@requires_torch
def test_mixed_types_error():
    with pytest.raises(TypeError, match="input and weight"):
        cvkernels.dilated_conv2d(np.zeros((1, 1, 3, 3)), torch.zeros(1, 1, 1, 1))


@requires_torch
@pytest.mark.parametrize("kw", [dict(padding=2, dilation=2), dict(padding="same", dilation=(3, 1), bias=False),
                                dict(padding=1, padding_mode="reflect", stride=2), dict(groups=2, padding=3, dilation=3)])
def test_dilated_conv2d_module_is_conv2d(kw):
    torch.manual_seed(0)
    ref_m = torch.nn.Conv2d(4, 6, 3, **kw)
    m = cvkernels.nn.DilatedConv2d(4, 6, 3, **kw)
    m.load_state_dict(ref_m.state_dict())
    assert list(m.state_dict()) == list(ref_m.state_dict())
    x = torch.randn(2, 4, 11, 10, requires_grad=True)
    out, want = m(x), ref_m(x)
    torch.testing.assert_close(out, want, rtol=1e-4, atol=1e-4)
    out.sum().backward()
    want.sum().backward()
    torch.testing.assert_close(m.weight.grad, ref_m.weight.grad, rtol=1e-4, atol=1e-3)


@requires_torch
@pytest.mark.skipif(TvASPP is None, reason="torchvision is not installed")
def test_aspp_matches_torchvision():
    torch.manual_seed(0)
    want_m = TvASPP(32, [2, 4, 6], 16).eval()
    m = cvkernels.nn.ASPP(32, (2, 4, 6), 16).eval()
    m.load_state_dict(want_m.state_dict())  # same keys and shapes
    x = torch.randn(2, 32, 15, 17)
    torch.testing.assert_close(m(x), want_m(x), rtol=1e-4, atol=1e-4)
    assert m(x).shape == (2, 16, 15, 17)


@requires_torch
def test_aspp_structure_and_errors():
    m = cvkernels.nn.ASPP(8)
    assert [c[0].dilation for c in list(m.convs)[1:4]] == [(6, 6), (12, 12), (18, 18)]
    assert all(isinstance(c, cvkernels.nn.DilatedConv2d) for c in m.modules() if isinstance(c, torch.nn.Conv2d))
    assert m(torch.randn(2, 8, 9, 9)).shape == (2, 256, 9, 9)
    with pytest.raises(ValueError, match="atrous_rates"):
        cvkernels.nn.ASPP(8, (6, 12))


def test_random_shapes_against_reference(rng):
    for _ in range(20):
        g = int(rng.choice([1, 2]))
        cin, cout = g * int(rng.integers(1, 5)), g * int(rng.integers(1, 5))
        k, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(1, 19))
        p = int(rng.integers(0, 20))
        H, W = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        if H + 2 * p < d * (k - 1) + 1 or W + 2 * p < d * (k - 1) + 1:
            continue
        x = rng.standard_normal((int(rng.integers(1, 4)), cin, H, W))
        w = rng.standard_normal((cout, cin // g, k, k))
        kw = dict(stride=s, padding=p, dilation=d, groups=g)
        np.testing.assert_allclose(cvkernels.dilated_conv2d(x, w, **kw), ref.dilated_conv2d(x, w, **kw), rtol=1e-10,
                                   atol=1e-10)


@requires_cuda
def test_cuda_matches_cpu():
    g = torch.Generator().manual_seed(0)
    for N, C, H, W, Co, k, s, p, d, grp in GRID:
        x = torch.randn(N, C, H, W, generator=g, dtype=torch.float64, requires_grad=True)
        w = torch.randn(Co, C // grp, k, k, generator=g, dtype=torch.float64, requires_grad=True)
        b = torch.randn(Co, generator=g, dtype=torch.float64, requires_grad=True)
        kw = dict(stride=s, padding=p, dilation=d, groups=grp)
        want = cvkernels.dilated_conv2d(x, w, b, **kw)
        xc, wc, bc = (t.detach().cuda().requires_grad_() for t in (x, w, b))
        got = cvkernels.dilated_conv2d(xc, wc, bc, **kw)
        torch.testing.assert_close(got.cpu(), want, rtol=1e-10, atol=1e-10)
        go = torch.randn_like(want)
        exp = torch.autograd.grad(want, (x, w, b), go)
        res = torch.autograd.grad(got, (xc, wc, bc), go.cuda())
        for a, e in zip(res, exp):
            torch.testing.assert_close(a.cpu(), e, rtol=1e-9, atol=1e-9)


@requires_torch
def test_bench_cases_run():
    """The `cvkernels bench` conv cases (quick sizes) build, and every implementation runs."""
    from cvkernels.bench import conv as bench_conv

    cases = bench_conv.cases(quick=True)
    assert len(cases) == 9
    for case in cases:
        assert case.flops or "ASPP" in case.name
        for fn in case.impls.values():
            fn()
