"""Dilated (atrous) convolution: dilated_conv2d with torch.nn.functional.conv2d's signature and
values, for torch tensors (through torch.ops.cvkernels.dilated_conv2d, differentiable with
respect to input, weight and bias) and numpy arrays (forward only).
"""

from __future__ import annotations

import numpy as np

from . import _frontend as fe
from ._launch import conv as launch
from ._launch.arrays import NUMPY

__all__ = ["dilated_conv2d"]


@fe.public
def dilated_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation with dilated taps, as ``torch.nn.functional.conv2d``::

        out[n, co, i, j] = bias[co] + sum_{c, kh, kw} weight[co, c, kh, kw]
                           * input[n, g*C/G + c, i*sh - pt + kh*dh, j*sw - pl + kw*dw]

    (zero outside the input, g the group of co). The taps of a KxK kernel sit ``dilation``
    pixels apart, so the receptive field is dilation*(K-1)+1 without extra weights.

    Args:
        input: (N, C_in, H, W). weight: (C_out, C_in / groups, KH, KW). bias: (C_out,) or None.
        stride: int or pair >= 1. dilation: int or pair >= 1.
        padding: int or pair >= 0, "valid" (0) or "same" (stride 1; output H x W, the odd
            pixel of padding at the bottom/right, as torch).
        groups: divides C_in and C_out.

    Returns:
        (N, C_out, H_out, W_out), H_out = (H + 2*pad - dilation*(KH-1) - 1) // stride + 1,
        in the input's dtype (float16/bfloat16 computed in float32, integers in float64).

    Raises:
        ValueError: shapes that do not fit (naming the argument), bad stride/padding/dilation/
        groups, a dilated kernel larger than the padded input. TypeError: complex input.

    Example:
        >>> import numpy as np, cvkernels
        >>> x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
        >>> w = np.ones((1, 1, 2, 2), np.float32)
        >>> cvkernels.dilated_conv2d(x, w, dilation=2)  # x[i,j]+x[i,j+2]+x[i+2,j]+x[i+2,j+2]
        array([[[[24., 28., 32.],
                 [44., 48., 52.],
                 [64., 68., 72.]]]], dtype=float32)
    """
    st, pad4, dil, groups = launch.args(getattr(weight, "shape", ()), stride, padding, dilation, groups)
    if fe.use_torch(input, weight, bias):
        torch = fe.torch_module()
        if not isinstance(input, torch.Tensor) or not isinstance(weight, torch.Tensor):
            raise TypeError("input and weight must both be torch.Tensors (or both numpy arrays)")
        if bias is not None and not isinstance(bias, torch.Tensor):
            bias = torch.as_tensor(bias, dtype=weight.dtype, device=weight.device)
        return torch.ops.cvkernels.dilated_conv2d(input, weight, bias, list(st), list(pad4), list(dil), groups)
    x = fe.array("input", input)
    w = fe.array("weight", weight)
    b = None if bias is None else fe.array("bias", bias)
    out = launch.forward(NUMPY, x, w, b, st, pad4, dil, groups)
    out_dt = np.result_type(x.dtype, w.dtype) if x.dtype.kind == "f" else out.dtype
    return out.astype(out_dt, copy=False)
