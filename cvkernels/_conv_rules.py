"""Argument rules of dilated_conv2d, shared by the numpy path, the torch kernels and the fakes."""

from __future__ import annotations

from ._core import int_pair


def conv_args(weight_shape, stride, padding, dilation, groups):
    """((sh, sw), (top, left, bottom, right), (dh, dw), groups) from conv2d's arguments;
    padding="same" (stride 1 only, as torch) puts the odd pixel at the bottom/right,
    padding="valid" is 0."""
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
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


def conv_shape(input_shape, weight_shape, bias_shape, stride, pad4, dilation, groups):
    """The kernels' 16-value shape (N, Cin, H, W, Cout, KH, KW, sh, sw, pt, pl, dh, dw, groups,
    Ho, Wo), after checking that input, weight and bias fit together."""
    input_shape, weight_shape = tuple(input_shape), tuple(weight_shape)
    if len(input_shape) != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {input_shape}")
    if len(weight_shape) != 4:
        raise ValueError(f"weight must have shape (C_out, C_in / groups, KH, KW), got {weight_shape}")
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
    Ho, Wo = (eh - 1) // sh + 1, (ew - 1) // sw + 1
    return (N, Cin, H, W, Cout, KH, KW, sh, sw, pt, pl, dh, dw, groups, Ho, Wo)
