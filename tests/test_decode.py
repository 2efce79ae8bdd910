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
