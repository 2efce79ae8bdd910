"""Launchers of dilated_conv2d (csrc/conv/), forward and backward. C++ derives and checks the
whole convolution shape from the buffers; `out_spec` is the same arithmetic for allocation and
the fake kernels."""

from __future__ import annotations

from .checks import int_pair, integer


def args(weight_shape, stride, padding, dilation, groups):
    """((sh, sw), (top, left, bottom, right), (dh, dw), groups) from conv2d's arguments;
    padding="same" (stride 1 only, as torch) puts the odd pixel at the bottom/right,
    padding="valid" is 0."""
    groups = integer("groups", groups, minimum=1)
    st = int_pair("stride", stride, 1)
    dil = int_pair("dilation", dilation, 1)
    if isinstance(padding, str):
        if padding == "valid":
            return st, (0, 0, 0, 0), dil, groups
        if padding != "same":
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if st != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride {st}")
        kh, kw = tuple(weight_shape)[2:4] if len(tuple(weight_shape)) == 4 else (1, 1)
        th, tw = dil[0] * (kh - 1), dil[1] * (kw - 1)
        return st, (th // 2, tw // 2, th - th // 2, tw - tw // 2), dil, groups
    ph, pw = int_pair("padding", padding, 0)
    return st, (ph, pw, ph, pw), dil, groups


def out_spec(input_shape, weight_shape, bias_shape, stride, pad4, dilation, groups):
    """Output shape (N, Cout, Ho, Wo), after checking that input, weight and bias fit together."""
    input_shape, weight_shape = tuple(input_shape), tuple(weight_shape)
    if len(input_shape) != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {input_shape}")
    if len(weight_shape) != 4:
        raise ValueError(f"weight must have shape (C_out, C_in / groups, KH, KW), got {weight_shape}")
    if len(stride) != 2 or len(pad4) != 4 or len(dilation) != 2:
        raise ValueError("stride and dilation need 2 values, padding 4 (top, left, bottom, right)")
    if min(stride) < 1 or min(dilation) < 1 or min(pad4) < 0 or groups < 1:
        raise ValueError(f"need stride >= 1, dilation >= 1, padding >= 0, groups >= 1, got "
                         f"{list(stride)}, {list(dilation)}, {list(pad4)}, {groups}")
    N, Cin, H, W = input_shape
    Cout, Cg, KH, KW = weight_shape
    if Cin % groups or Cout % groups:
        raise ValueError(f"groups={groups} must divide input channels ({Cin}) and weight's C_out ({Cout})")
    if Cg != Cin // groups:
        raise ValueError(
            f"weight must have C_in / groups = {Cin // groups} channels in dim 1 for input of {Cin} channels "
            f"and groups={groups}, got weight shape {weight_shape}"
        )
    if KH < 1 or KW < 1:
        raise ValueError(f"weight's kernel size must be >= 1, got {weight_shape}")
    if bias_shape is not None and tuple(bias_shape) != (Cout,):
        raise ValueError(f"bias must have shape ({Cout},), got {tuple(bias_shape)}")
    (sh, sw), (pt, pl, pb, pr), (dh, dw) = stride, pad4, dilation
    eh, ew = H + pt + pb - dh * (KH - 1), W + pl + pr - dw * (KW - 1)
    if eh < 1 or ew < 1:
        raise ValueError(
            f"input ({H}x{W}) plus padding is smaller than the dilated kernel "
            f"({dh * (KH - 1) + 1}x{dw * (KW - 1) + 1})"
        )
    return (N, Cout, (eh - 1) // sh + 1, (ew - 1) // sw + 1)


def _check(xp, input, weight, bias):
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not (xp.is_float(t.dtype) or xp.is_integer(t.dtype)):
            raise TypeError(f"{name} must be a real array, got dtype {t.dtype}")
    xp.same_device(input=input, weight=weight, bias=bias)
    return xp.promote(xp.compute_dtype("input", input.dtype), xp.compute_dtype("weight", weight.dtype))


def forward(xp, input, weight, bias, stride, pad4, dilation, groups):
    """(N, Cout, Ho, Wo) in the compute dtype of input and weight."""
    ct = _check(xp, input, weight, bias)
    shape = out_spec(input.shape, weight.shape, None if bias is None else bias.shape, stride, pad4, dilation, groups)
    x, w = xp.contiguous(input, ct), xp.contiguous(weight, ct)
    b = None if bias is None else xp.contiguous(bias, ct)
    out = xp.empty(shape, ct, x)
    if xp.numel(out):
        xp.kernels(x).conv2d_forward(xp.view(x), xp.view(w), None if b is None else xp.view(b), xp.view(out),
                                     list(stride), list(pad4), list(dilation), groups, xp.stream(x))
    return out


def backward(xp, grad, input, weight, stride, pad4, dilation, groups, want):
    """(grad_input, grad_weight, grad_bias) in the compute dtype; an unwanted one (want[i]
    false) is an empty (0,) array."""
    ct = _check(xp, input, weight, None)
    shape = out_spec(input.shape, weight.shape, None, stride, pad4, dilation, groups)
    if tuple(grad.shape) != shape:
        raise ValueError(f"grad must have the output's shape {shape}, got {tuple(grad.shape)}")
    g = xp.contiguous(grad, ct)
    x, w = xp.contiguous(input, ct), xp.contiguous(weight, ct)
    outs = [xp.empty(s if on else (0,), ct, x) for s, on in zip((x.shape, w.shape, (shape[1],)), want)]
    if any(want):
        views = [xp.view(o) if on else None for o, on in zip(outs, want)]
        xp.kernels(x).conv2d_backward(xp.view(g), xp.view(x), xp.view(w), *views, list(stride), list(pad4),
                                      list(dilation), groups, xp.stream(x))
    return tuple(outs)
