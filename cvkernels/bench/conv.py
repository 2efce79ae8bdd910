"""Benchmark cases of dilated_conv2d and ASPP beside torch.nn.functional.conv2d (oneDNN) and
the same ASPP built from nn.Conv2d: DeepLab's (1, 256, 65, 65) features with 3x3 taps at
dilation 6/12/18 ("same" padding) and (1, 512, 64, 64) at dilation 2; float32."""

from __future__ import annotations

from . import OURS, Case

PEER = "torch F.conv2d"


def _with_torch_convs(module, torch):
    """A copy of `module` whose DilatedConv2d layers are plain nn.Conv2d with the same weights."""
    import copy

    import cvkernels.nn as cnn

    m = copy.deepcopy(module)
    for name, child in list(m.named_modules()):
        for cname, c in list(child.named_children()):
            if isinstance(c, cnn.DilatedConv2d):
                conv = torch.nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, c.dilation,
                                       c.groups, c.bias is not None)
                conv.load_state_dict(c.state_dict())
                setattr(child, cname, conv)
    return m


def cases(quick: bool = False):
    import torch
    import torch.nn.functional as F

    import cvkernels
    import cvkernels.nn as cnn

    g = torch.Generator().manual_seed(0)
    c1, s1, c2, s2 = (64, 33, 128, 32) if quick else (256, 65, 512, 64)
    shapes = [((1, c1, s1, s1), d) for d in (6, 12, 18)] + [((1, c2, s2, s2), 2)]
    out = []
    for shape, d in shapes:
        C = shape[1]
        x = torch.randn(*shape, generator=g)
        w = torch.randn(C, C, 3, 3, generator=g) / (3 * C**0.5)
        flops = 2 * C * C * 9 * shape[2] * shape[3]
        tag = f"{'x'.join(map(str, shape))} d={d}"
        out.append(Case(f"dilated conv fwd {tag}", {
            OURS: lambda x=x, w=w, d=d: cvkernels.dilated_conv2d(x, w, None, 1, "same", d),
            PEER: lambda x=x, w=w, d=d: F.conv2d(x, w, None, 1, "same", d),
        }, flops=flops))
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()

        def fwd_bwd(fn, d=d, xg=xg, wg=wg):
            def run():
                y = fn(xg, wg, None, 1, "same", d)
                y.backward(torch.ones_like(y))
                xg.grad = wg.grad = None

            return run

        out.append(Case(f"dilated conv fwd+bwd {tag}", {OURS: fwd_bwd(cvkernels.dilated_conv2d), PEER: fwd_bwd(F.conv2d)},
                        flops=3 * flops))
    torch.manual_seed(0)
    aspp = cnn.ASPP(c1, (6, 12, 18), c1).eval()
    ref = _with_torch_convs(aspp, torch).eval()
    x = torch.randn(1, c1, s1, s1, generator=g)
    with torch.no_grad():
        assert torch.allclose(aspp(x), ref(x), rtol=1e-3, atol=1e-3)
    out.append(Case(f"dilated conv ASPP fwd 1x{c1}x{s1}x{s1}", {
        OURS: lambda: _no_grad(torch, aspp, x), "ASPP of nn.Conv2d": lambda: _no_grad(torch, ref, x)}))
    return out


def _no_grad(torch, m, x):
    with torch.no_grad():
        return m(x)
