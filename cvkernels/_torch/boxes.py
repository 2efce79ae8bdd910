"""torch.ops.cvkernels box operators: schemas, CPU/CUDA implementations that call the
kernels, fake kernels for torch.compile/export, and autograd formulas."""

from __future__ import annotations

import torch

from .._box_rules import CIOU, DIOU, GIOU, IOU, FORMATS, check_format, check_reduction, loss_shape, pairwise_dims
from .._core import check_last_dim
from ._common import check_same_device, code, compute_dtype, kernels, lib, pair_dtypes, stream_args

# name -> (kind, has eps argument)
PAIRWISE = {
    "box_iou": (IOU, False),
    "generalized_box_iou": (GIOU, False),
    "distance_box_iou": (DIOU, True),
    "complete_box_iou": (CIOU, True),
}
LOSSES = {
    "generalized_box_iou_loss": GIOU,
    "distance_box_iou_loss": DIOU,
    "complete_box_iou_loss": CIOU,
}


def _out_dtype(compute: torch.dtype, promoted: torch.dtype) -> torch.dtype:
    # torchvision returns float32 for half and integer boxes (its _upcast), else the input dtype.
    return compute if promoted in (torch.float32, torch.float64) else torch.float32


# --- pairwise matrices -------------------------------------------------------------------

def _pairwise_meta(boxes1, boxes2):
    check_same_device(boxes1=boxes1, boxes2=boxes2)
    B, N, M, out_shape = pairwise_dims(boxes1.shape, boxes2.shape)
    compute, promoted = pair_dtypes(boxes1, boxes2)
    return B, N, M, out_shape, compute, _out_dtype(compute, promoted)


def _pairwise_forward(kind, boxes1, boxes2, eps):
    B, N, M, out_shape, ct, ot = _pairwise_meta(boxes1, boxes2)
    a = boxes1.to(ct).contiguous()
    b = boxes2.to(ct).contiguous()
    out = torch.empty(out_shape, dtype=ct, device=a.device)
    kernels(a.device).box_pairwise(
        kind, code(ct), a.data_ptr(), b.data_ptr(), out.data_ptr(), B, N, M, eps, *stream_args(a.device)
    )
    return out if ot == ct else out.to(ot)


def _pairwise_backward_impl(grad, boxes1, boxes2, kind, eps):
    B, N, M, out_shape, ct, _ = _pairwise_meta(boxes1, boxes2)
    a = boxes1.to(ct).contiguous()
    b = boxes2.to(ct).contiguous()
    g = grad.to(ct).expand(out_shape).contiguous()
    ga = torch.empty(a.shape, dtype=ct, device=a.device)
    gb = torch.empty(b.shape, dtype=ct, device=a.device)
    kernels(a.device).box_pairwise_backward(
        kind, code(ct), a.data_ptr(), b.data_ptr(), g.data_ptr(), ga.data_ptr(), gb.data_ptr(),
        B, N, M, eps, *stream_args(a.device),
    )
    return ga.to(boxes1.dtype), gb.to(boxes2.dtype)


lib.define("_box_pairwise_backward(Tensor grad, Tensor boxes1, Tensor boxes2, int kind, float eps) -> (Tensor, Tensor)")
for _dev in ("CPU", "CUDA"):
    lib.impl("_box_pairwise_backward", _pairwise_backward_impl, _dev)


@torch.library.register_fake("cvkernels::_box_pairwise_backward")
def _(grad, boxes1, boxes2, kind, eps):
    _pairwise_meta(boxes1, boxes2)
    return boxes1.new_empty(boxes1.shape), boxes2.new_empty(boxes2.shape)


def _make_pairwise(name, kind, has_eps):
    if has_eps:
        lib.define(f"{name}(Tensor boxes1, Tensor boxes2, float eps=1e-07) -> Tensor")

        def impl(boxes1, boxes2, eps=1e-7):
            return _pairwise_forward(kind, boxes1, boxes2, eps)

        def fake(boxes1, boxes2, eps=1e-7):
            _, _, _, shape, _, ot = _pairwise_meta(boxes1, boxes2)
            return boxes1.new_empty(shape, dtype=ot)
    else:
        lib.define(f"{name}(Tensor boxes1, Tensor boxes2) -> Tensor")

        def impl(boxes1, boxes2):
            return _pairwise_forward(kind, boxes1, boxes2, 0.0)

        def fake(boxes1, boxes2):
            _, _, _, shape, _, ot = _pairwise_meta(boxes1, boxes2)
            return boxes1.new_empty(shape, dtype=ot)

    for dev in ("CPU", "CUDA"):
        lib.impl(name, impl, dev)
    torch.library.register_fake(f"cvkernels::{name}")(fake)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0], inputs[1])
        ctx.eps = inputs[2] if has_eps and len(inputs) > 2 else (1e-7 if has_eps else 0.0)

    def backward(ctx, grad):
        boxes1, boxes2 = ctx.saved_tensors
        ga, gb = torch.ops.cvkernels._box_pairwise_backward(grad, boxes1, boxes2, kind, ctx.eps)
        return (ga, gb, None) if has_eps else (ga, gb)

    torch.library.register_autograd(f"cvkernels::{name}", backward, setup_context=setup_context)


for _name, (_kind, _has_eps) in PAIRWISE.items():
    _make_pairwise(_name, _kind, _has_eps)


# --- paired losses -----------------------------------------------------------------------

def _loss_meta(boxes1, boxes2, reduction):
    check_same_device(boxes1=boxes1, boxes2=boxes2)
    check_reduction(reduction)
    shape = loss_shape(boxes1.shape, boxes2.shape)
    compute, promoted = pair_dtypes(boxes1, boxes2)
    out = promoted if promoted.is_floating_point else torch.float32
    return shape, compute, out


def _loss_impl(kind):
    def impl(boxes1, boxes2, reduction="none", eps=1e-7):
        shape, ct, ot = _loss_meta(boxes1, boxes2, reduction)
        a = boxes1.to(ct).expand(shape).contiguous()
        b = boxes2.to(ct).expand(shape).contiguous()
        out = torch.empty(shape[:-1], dtype=ct, device=a.device)
        kernels(a.device).box_loss(
            kind, code(ct), a.data_ptr(), b.data_ptr(), out.data_ptr(), out.numel(), eps, *stream_args(a.device)
        )
        if reduction == "mean":
            out = out.mean() if out.numel() > 0 else out.sum() * 0.0
        elif reduction == "sum":
            out = out.sum()
        return out.to(ot)

    return impl


def _loss_backward_impl(grad, boxes1, boxes2, kind, reduction, eps):
    shape, ct, _ = _loss_meta(boxes1, boxes2, reduction)
    a = boxes1.to(ct).expand(shape).contiguous()
    b = boxes2.to(ct).expand(shape).contiguous()
    g = grad.to(ct)
    if reduction == "mean":
        n = 1
        for d in shape[:-1]:
            n *= d
        g = g / max(n, 1)
    g = g.expand(shape[:-1]).contiguous()
    ga = torch.empty(shape, dtype=ct, device=a.device)
    gb = torch.empty(shape, dtype=ct, device=a.device)
    kernels(a.device).box_loss_backward(
        kind, code(ct), a.data_ptr(), b.data_ptr(), g.data_ptr(), ga.data_ptr(), gb.data_ptr(),
        g.numel(), eps, *stream_args(a.device),
    )
    ga = ga.sum_to_size(boxes1.shape).to(boxes1.dtype)
    gb = gb.sum_to_size(boxes2.shape).to(boxes2.dtype)
    return ga, gb


lib.define(
    "_box_loss_backward(Tensor grad, Tensor boxes1, Tensor boxes2, int kind, str reduction, float eps) -> (Tensor, Tensor)"
)
for _dev in ("CPU", "CUDA"):
    lib.impl("_box_loss_backward", _loss_backward_impl, _dev)


@torch.library.register_fake("cvkernels::_box_loss_backward")
def _(grad, boxes1, boxes2, kind, reduction, eps):
    _loss_meta(boxes1, boxes2, reduction)
    return boxes1.new_empty(boxes1.shape), boxes2.new_empty(boxes2.shape)


def _make_loss(name, kind):
    lib.define(f"{name}(Tensor boxes1, Tensor boxes2, str reduction='none', float eps=1e-07) -> Tensor")
    for dev in ("CPU", "CUDA"):
        lib.impl(name, _loss_impl(kind), dev)

    def fake(boxes1, boxes2, reduction="none", eps=1e-7):
        shape, _, ot = _loss_meta(boxes1, boxes2, reduction)
        return boxes1.new_empty(shape[:-1] if reduction == "none" else (), dtype=ot)

    torch.library.register_fake(f"cvkernels::{name}")(fake)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0], inputs[1])
        ctx.reduction = inputs[2] if len(inputs) > 2 else "none"
        ctx.eps = inputs[3] if len(inputs) > 3 else 1e-7

    def backward(ctx, grad):
        boxes1, boxes2 = ctx.saved_tensors
        ga, gb = torch.ops.cvkernels._box_loss_backward(grad, boxes1, boxes2, kind, ctx.reduction, ctx.eps)
        return ga, gb, None, None

    torch.library.register_autograd(f"cvkernels::{name}", backward, setup_context=setup_context)


for _name, _kind in LOSSES.items():
    _make_loss(_name, _kind)


# --- box_area, box_convert ---------------------------------------------------------------

lib.define("box_area(Tensor boxes) -> Tensor")


def _area_meta(boxes):
    check_last_dim("boxes", boxes.shape)
    ct = compute_dtype("boxes", boxes.dtype)
    return ct


def _box_area(boxes):
    ct = _area_meta(boxes)
    if not (boxes.dtype.is_floating_point):  # integers: exact in their own dtype, as torchvision
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    x = boxes.to(ct).contiguous()
    out = torch.empty(x.shape[:-1], dtype=ct, device=x.device)
    kernels(x.device).box_area(code(ct), x.data_ptr(), out.data_ptr(), out.numel(), *stream_args(x.device))
    return out


for _dev in ("CPU", "CUDA"):
    lib.impl("box_area", _box_area, _dev)


@torch.library.register_fake("cvkernels::box_area")
def _(boxes):
    ct = _area_meta(boxes)
    return boxes.new_empty(boxes.shape[:-1], dtype=ct if boxes.dtype.is_floating_point else boxes.dtype)


def _area_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0])


def _area_backward(ctx, grad):
    (boxes,) = ctx.saved_tensors
    b = boxes.to(grad.dtype)
    w = b[..., 2] - b[..., 0]
    h = b[..., 3] - b[..., 1]
    g = torch.stack([-grad * h, -grad * w, grad * h, grad * w], dim=-1)
    return g.to(boxes.dtype)


torch.library.register_autograd("cvkernels::box_area", _area_backward, setup_context=_area_setup)

lib.define("box_convert(Tensor boxes, str in_fmt, str out_fmt) -> Tensor")


def _convert_meta(boxes, in_fmt, out_fmt):
    check_last_dim("boxes", boxes.shape)
    f, t = check_format("in_fmt", in_fmt), check_format("out_fmt", out_fmt)
    ct = compute_dtype("boxes", boxes.dtype)
    ot = boxes.dtype if boxes.dtype.is_floating_point else ct
    return f, t, ct, ot


def _box_convert(boxes, in_fmt, out_fmt):
    f, t, ct, ot = _convert_meta(boxes, in_fmt, out_fmt)
    x = boxes.to(ct).contiguous()
    out = torch.empty(x.shape, dtype=ct, device=x.device)
    kernels(x.device).box_convert(code(ct), x.data_ptr(), out.data_ptr(), out.numel() // 4, f, t, *stream_args(x.device))
    return out.to(ot)


for _dev in ("CPU", "CUDA"):
    lib.impl("box_convert", _box_convert, _dev)


@torch.library.register_fake("cvkernels::box_convert")
def _(boxes, in_fmt, out_fmt):
    _, _, _, ot = _convert_meta(boxes, in_fmt, out_fmt)
    return boxes.new_empty(boxes.shape, dtype=ot)


# The conversions are linear: the gradient is the transposed 4x4 matrix of each format pair.
_TO_XYXY = {
    0: ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)),
    1: ((1, 0, 0, 0), (0, 1, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)),
    2: ((1, 0, -0.5, 0), (0, 1, 0, -0.5), (1, 0, 0.5, 0), (0, 1, 0, 0.5)),
}
_FROM_XYXY = {
    0: ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)),
    1: ((1, 0, 0, 0), (0, 1, 0, 0), (-1, 0, 1, 0), (0, -1, 0, 1)),
    2: ((0.5, 0, 0.5, 0), (0, 0.5, 0, 0.5), (-1, 0, 1, 0), (0, -1, 0, 1)),
}


def _convert_setup(ctx, inputs, output):
    ctx.fmts = (FORMATS[inputs[1]], FORMATS[inputs[2]])
    ctx.in_dtype = inputs[0].dtype


def _convert_backward(ctx, grad):
    f, t = ctx.fmts
    m = torch.tensor(_FROM_XYXY[t], dtype=grad.dtype, device=grad.device) @ torch.tensor(
        _TO_XYXY[f], dtype=grad.dtype, device=grad.device
    )  # out = m @ in for each box
    return (grad @ m).to(ctx.in_dtype), None, None


torch.library.register_autograd("cvkernels::box_convert", _convert_backward, setup_context=_convert_setup)
