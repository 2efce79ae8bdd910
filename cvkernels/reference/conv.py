"""Dilated convolution from its definition, in numpy (float64 accumulation):

    out[n, co, i, j] = bias[co] + sum_{c, kh, kw} weight[co, c, kh, kw]
                       * xpad[n, g*Cg + c, i*sh + kh*dh, j*sw + kw*dw]

where xpad is the input with zeros added (top, left, bottom, right) and g = co // (Cout/G).
One tap (kh, kw) at a time: the strided slice of xpad it reads, times its weights."""

from __future__ import annotations

import numpy as np

from .._launch.conv import args as conv_args, out_spec


def dilated_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    (sh, sw), (pt, pl, pb, pr), (dh, dw), G = conv_args(w.shape, stride, padding, dilation, groups)
    N, Cout, Ho, Wo = out_spec(
        x.shape, w.shape, None if bias is None else np.shape(bias), (sh, sw), (pt, pl, pb, pr), (dh, dw), G)
    Cin, KH, KW = x.shape[1], w.shape[2], w.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    cg, og = Cin // G, Cout // G
    out = np.zeros((N, Cout, Ho, Wo))
    for g in range(G):
        xs = xpad[:, g * cg:(g + 1) * cg]
        for kh in range(KH):
            for kw in range(KW):
                # input pixels under tap (kh, kw) for every output pixel: (N, cg, Ho, Wo)
                patch = xs[:, :, kh * dh: kh * dh + (Ho - 1) * sh + 1: sh, kw * dw: kw * dw + (Wo - 1) * sw + 1: sw]
                out[:, g * og:(g + 1) * og] += np.einsum("oc,nchw->nohw", w[g * og:(g + 1) * og, :, kh, kw], patch)
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out
