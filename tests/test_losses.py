"""sigmoid_focal_loss: against the float64 reference and torchvision.ops.sigmoid_focal_loss
(values and gradients, every reduction, alpha < 0, exponents 0 / 1 / 1.5 / 2 / 3, soft targets,
extreme logits), gradcheck in float64, opcheck, TorchScript, numpy inputs, half dtypes, empty
inputs and bad arguments."""

import numpy as np
import pytest

import cvkernels
from cvkernels import reference

torch = pytest.importorskip("torch")

try:
    import torchvision
except ImportError:  # pragma: no cover
    torchvision = None
requires_torchvision = pytest.mark.skipif(torchvision is None, reason="torchvision is not installed")

REDUCTIONS = ["none", "mean", "sum"]
SETTINGS = [(0.25, 2.0), (-1.0, 2.0), (0.25, 0.0), (0.5, 1.0), (0.25, 1.5), (0.75, 3.0)]


def _data(shape=(3, 257, 7), seed=0, soft=False, scale=4.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * scale
    x.view(-1)[:6] = torch.tensor([0.0, 30.0, -30.0, 90.0, -90.0, 1e-8])  # sigmoid's far ends
    t = torch.rand(shape, generator=g, dtype=torch.float64) if soft else (torch.rand(shape, generator=g) < 0.2).double()
    return x.to(dtype), t.to(dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", SETTINGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equals_the_reference(reduction, alpha, gamma, dtype):
    x, t = _data(soft=gamma == 1.5, dtype=dtype)
    got = cvkernels.sigmoid_focal_loss(x, t, alpha, gamma, reduction)
    want = reference.sigmoid_focal_loss(x.numpy(), t.numpy(), alpha, gamma, reduction)
    assert got.dtype == dtype
    # float32: where p_t is near 1, 1 - p_t keeps few bits (torchvision's formula too)
    rtol, atol = (2e-6, 2e-6) if dtype == torch.float32 else (1e-12, 1e-15)
    np.testing.assert_allclose(got.double().numpy(), want, rtol=rtol, atol=atol)


@requires_torchvision
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", SETTINGS)
def test_values_and_gradients_equal_torchvision(reduction, alpha, gamma):
    x, t = _data(seed=1, soft=alpha == 0.5)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = cvkernels.sigmoid_focal_loss(xa, t, alpha, gamma, reduction)
    want = torchvision.ops.sigmoid_focal_loss(xb, t, alpha, gamma, reduction)
    # float32 rounding (a few units of 1.2e-7): torchvision's log(1 + e^-|x|) rounds 1 + e first
    torch.testing.assert_close(got, want, rtol=1e-5, atol=5e-7)
    go = torch.rand_like(want) + 0.5
    got.backward(go)
    want.backward(go)
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=5e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 0.0), (0.4, 1.5)])
def test_gradcheck(reduction, alpha, gamma):
    x, t = _data((2, 5, 3), seed=2, soft=True, scale=2.0, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda z: cvkernels.sigmoid_focal_loss(z, t, alpha, gamma, reduction),
                                    (x.clone().requires_grad_(),))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script's deprecation notice
def test_opcheck_and_script():
    x, t = _data((4, 33), seed=3)
    for with_grad in (False, True):
        for reduction in REDUCTIONS:
            torch.library.opcheck(torch.ops.cvkernels.sigmoid_focal_loss,
                                  (x.clone().requires_grad_(with_grad), t, 0.25, 2.0, reduction, with_grad))
    scripted = torch.jit.script(cvkernels.sigmoid_focal_loss)
    torch.testing.assert_close(scripted(x, t, 0.25, 2.0, "mean"), cvkernels.sigmoid_focal_loss(x, t, reduction="mean"))
    xs = x.clone().requires_grad_()
    scripted(xs, t).sum().backward()
    xe = x.clone().requires_grad_()
    cvkernels.sigmoid_focal_loss(xe, t).sum().backward()
    torch.testing.assert_close(xs.grad, xe.grad)


def test_numpy_half_empty_and_no_grad_paths():
    x, t = _data((5, 9), seed=4)
    np.testing.assert_allclose(cvkernels.sigmoid_focal_loss(x.numpy(), t.numpy()), cvkernels.sigmoid_focal_loss(x, t).numpy())
    assert cvkernels.sigmoid_focal_loss(x.numpy(), t.numpy(), reduction="sum").shape == ()
    h = cvkernels.sigmoid_focal_loss(x.half(), t.half(), reduction="mean")
    assert h.dtype == torch.float16
    torch.testing.assert_close(h.float(), cvkernels.sigmoid_focal_loss(x.half().float(), t.half().float(),
                                                                          reduction="mean"), rtol=1e-3, atol=1e-4)
    e = torch.zeros(0, 4)
    assert cvkernels.sigmoid_focal_loss(e, e).shape == (0, 4)
    assert float(cvkernels.sigmoid_focal_loss(e, e, reduction="sum")) == 0.0
    assert torch.isnan(cvkernels.sigmoid_focal_loss(e, e, reduction="mean"))  # torch's mean of nothing
    with torch.no_grad():
        assert not cvkernels.sigmoid_focal_loss(x.clone().requires_grad_(), t).requires_grad
    strided = x.t()  # non-contiguous
    torch.testing.assert_close(cvkernels.sigmoid_focal_loss(strided, t.t()), cvkernels.sigmoid_focal_loss(x, t).t())


def test_bad_arguments():
    x, t = _data((2, 3))
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
        cvkernels.sigmoid_focal_loss(x, t, reduction="avg")
    with pytest.raises(ValueError, match="targets must have the shape of inputs"):
        cvkernels.sigmoid_focal_loss(x, t[:1])
    with pytest.raises(TypeError, match="floating-point logits"):
        cvkernels.sigmoid_focal_loss(torch.ones(2, 3, dtype=torch.int64), t)
    with pytest.raises(RuntimeError):  # also a RuntimeError, as torchvision's would be
        cvkernels.sigmoid_focal_loss(x, t[:1])


@pytest.mark.parametrize("alpha,gamma", SETTINGS)
def test_the_cuda_formulas_equal_the_kernel(alpha, gamma):
    """The CUDA implementation (torch elementwise ops until a fused kernel lands) runs here on
    CPU tensors: its loss and derivative equal the CPU kernel's."""
    from cvkernels._torch.losses import _focal_cuda

    x, t = _data((3, 50), seed=5, soft=True, scale=3.0, dtype=torch.float64)
    for reduction in REDUCTIONS:
        want = torch.ops.cvkernels.sigmoid_focal_loss(x, t, alpha, gamma, reduction, True)
        got = _focal_cuda(x, t, alpha, gamma, reduction, True)
        torch.testing.assert_close(got[0], want[0], rtol=1e-12, atol=1e-15)
        torch.testing.assert_close(got[1], want[1], rtol=1e-10, atol=1e-14)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_equals_cpu():
    x, t = _data((4, 100), seed=6)
    xc = x.cuda().requires_grad_()
    loss = cvkernels.sigmoid_focal_loss(xc, t.cuda(), reduction="sum")
    loss.backward()
    xr = x.clone().requires_grad_()
    want = cvkernels.sigmoid_focal_loss(xr, t, reduction="sum")
    want.backward()
    torch.testing.assert_close(loss.cpu(), want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(xc.grad.cpu(), xr.grad, rtol=1e-5, atol=1e-6)


# --- softmax focal loss and dice_ce_loss -------------------------------------------------------

def _seg(shape=(2, 5, 6, 7), seed=0, dtype=torch.float64, ignore=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    t = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=g)
    if ignore:
        t.view(-1)[::7] = -100
    return x, t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (2, 5, 6, 7), (1, 3, 4, 2, 3)])
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_softmax_focal_gamma_0_is_cross_entropy(reduction, shape, with_weight, dtype):
    x, t = _seg(shape, seed=len(shape), dtype=dtype)
    w = torch.rand(shape[1], dtype=dtype) + 0.1 if with_weight else None
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = cvkernels.softmax_focal_loss(xa, t, 0.0, w, reduction=reduction)
    want = torch.nn.functional.cross_entropy(xb, t, w, reduction=reduction)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got, want, **tol)
    go = torch.rand_like(want) + 0.5
    got.backward(go)
    want.backward(go)
    torch.testing.assert_close(xa.grad, xb.grad, **tol)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_softmax_focal_equals_the_reference_and_gradcheck(gamma, reduction):
    x, t = _seg(seed=int(gamma * 10))
    w = torch.rand(5, dtype=torch.float64) + 0.2
    got = cvkernels.softmax_focal_loss(x, t, gamma, w, reduction=reduction)
    want = reference.softmax_focal_loss(x.numpy(), t.numpy(), gamma, w.numpy(), -100, reduction)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    small_x, small_t = _seg((2, 3, 2, 3), seed=1)
    assert torch.autograd.gradcheck(
        lambda z: cvkernels.softmax_focal_loss(z, small_t, gamma, w[:3], reduction=reduction),
        (small_x.clone().requires_grad_(),))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script's deprecation notice
def test_softmax_focal_numpy_opcheck_script_and_bad_input():
    x, t = _seg((3, 4, 5), dtype=torch.float32)
    np.testing.assert_allclose(cvkernels.softmax_focal_loss(x.numpy(), t.numpy(), reduction="none"),
                               cvkernels.softmax_focal_loss(x, t, reduction="none").numpy())
    for with_grad in (False, True):
        for reduction in REDUCTIONS:
            torch.library.opcheck(torch.ops.cvkernels.softmax_focal_loss,
                                  (x.clone().requires_grad_(with_grad), t, torch.rand(4), 2.0, -100, reduction, with_grad))
    scripted = torch.jit.script(cvkernels.softmax_focal_loss)
    torch.testing.assert_close(scripted(x, t, 2.0, None, -100, "sum"), cvkernels.softmax_focal_loss(x, t, reduction="sum"))
    all_ignored = torch.full((3, 5), -100)
    assert torch.isnan(cvkernels.softmax_focal_loss(x, all_ignored))  # as cross_entropy
    with pytest.raises(ValueError, match=r"label 4, outside \[0, 4\)"):
        cvkernels.softmax_focal_loss(x, t.clamp(min=0) + 1)
    with pytest.raises(ValueError, match="target must have the shape"):
        cvkernels.softmax_focal_loss(x, t[:, :2])
    with pytest.raises(ValueError, match=r"weight must have shape \(C,\)"):
        cvkernels.softmax_focal_loss(x, t, weight=torch.ones(3))
    with pytest.raises(TypeError, match="integer class labels"):
        cvkernels.softmax_focal_loss(x, t.float())
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
        cvkernels.softmax_focal_loss(x, t, reduction="avg")


@pytest.mark.parametrize("ignore_index", [None, 2])
def test_dice_ce_loss_is_the_weighted_sum(ignore_index):
    x, t = _seg((2, 4, 5, 6), seed=9, ignore=False)
    w = torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=torch.float64)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = cvkernels.dice_ce_loss(xa, t, 0.7, 1.3, w, smooth=1e-5, ignore_index=ignore_index)
    ce = torch.nn.functional.cross_entropy(xb, t, w, ignore_index=-100 if ignore_index is None else ignore_index)
    dice = reference.masks.soft_dice_loss(xb.detach().numpy(), t.numpy(), "softmax", None, 1e-5, 1e-7, ignore_index)
    np.testing.assert_allclose(float(got.detach()), 0.7 * float(ce.detach()) + 1.3 * float(dice), rtol=1e-12)
    got.backward()
    (0.7 * ce + 1.3 * cvkernels.dice_loss(xb, t, smooth=1e-5, ignore_index=ignore_index)).backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cvkernels.dice_ce_loss(x.numpy(), t.numpy(), 0.7, 1.3, w.numpy(), ignore_index=ignore_index),
                               float(got.detach()), rtol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_softmax_focal_on_cuda_tensors():
    x, t = _seg((2, 3, 4, 4), dtype=torch.float32)
    xc = x.cuda().requires_grad_()
    loss = cvkernels.softmax_focal_loss(xc, t.cuda())
    assert loss.is_cuda
    loss.backward()
    xr = x.clone().requires_grad_()
    cvkernels.softmax_focal_loss(xr, t).backward()
    torch.testing.assert_close(xc.grad.cpu(), xr.grad)
