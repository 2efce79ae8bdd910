"""torch.ops.cvkernels box operators: schemas, CPU/CUDA implementations (the launchers of
cvkernels._launch.boxes with the torch adapter), fake kernels from the launchers' output specs,
and autograd formulas. Output dtypes follow torchvision: float16/bfloat16 and integer boxes
give float32 matrices."""

from __future__ import annotations

import torch

from .._launch import boxes as launch
from .._launch.checks import last_dim, reduction as check_reduction
from ._common import TORCH, impl, lib

# name -> (kind, has eps argument)
PAIRWISE = {
    "box_iou": ("iou", False),
    "generalized_box_iou": ("giou", False),
    "distance_box_iou": ("diou", True),
    "complete_box_iou": ("ciou", True),
}
LOSSES = {
    "generalized_box_iou_loss": "giou",
    "distance_box_iou_loss": "diou",
    "complete_box_iou_loss": "ciou",
}


def _pairwise_out_dtype(boxes1, boxes2) -> torch.dtype:
    # torchvision returns float32 for half and integer boxes (its _upcast), else the input dtype.
    ct = launch.pair_dtype(TORCH, boxes1, boxes2)
    promoted = torch.promote_types(boxes1.dtype, boxes2.dtype)
    return ct if promoted in (torch.float32, torch.float64) else torch.float32


# --- pairwise matrices -------------------------------------------------------------------

lib.define("_box_pairwise_backward(Tensor grad, Tensor boxes1, Tensor boxes2, int kind, float eps) -> (Tensor, Tensor)")


def _pairwise_backward(grad, boxes1, boxes2, kind, eps):
    ga, gb = launch.pairwise_backward(TORCH, kind, grad, boxes1, boxes2, eps)
    return ga.to(boxes1.dtype), gb.to(boxes2.dtype)


impl("_box_pairwise_backward", _pairwise_backward)


@torch.library.register_fake("cvkernels::_box_pairwise_backward")
def _(grad, boxes1, boxes2, kind, eps):
    launch.pairwise_spec(boxes1.shape, boxes2.shape)
    return boxes1.new_empty(boxes1.shape), boxes2.new_empty(boxes2.shape)


def _make_pairwise(name, kind_name, has_eps):
    kind = launch.KINDS[kind_name]
    lib.define(f"{name}(Tensor boxes1, Tensor boxes2{', float eps=1e-07' if has_eps else ''}) -> Tensor")

    def forward(boxes1, boxes2, eps=1e-7 if has_eps else 0.0):
        out = launch.pairwise(TORCH, kind, boxes1, boxes2, eps)
        if boxes1.dtype == boxes2.dtype == out.dtype:  # float32 / float64 boxes: the usual case
            return out
        return out.to(_pairwise_out_dtype(boxes1, boxes2))

    def fake(boxes1, boxes2, eps=0.0):
        TORCH.same_device(boxes1=boxes1, boxes2=boxes2)
        shape = launch.pairwise_spec(boxes1.shape, boxes2.shape)
        return boxes1.new_empty(shape, dtype=_pairwise_out_dtype(boxes1, boxes2))

    impl(name, forward)
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

lib.define(
    "_box_loss_backward(Tensor grad, Tensor boxes1, Tensor boxes2, int kind, str reduction, float eps) -> (Tensor, Tensor)"
)


def _loss_out_dtype(boxes1, boxes2):
    # torchvision upcasts float16 / bfloat16 and integer boxes to float32
    promoted = torch.promote_types(boxes1.dtype, boxes2.dtype)
    return promoted if promoted in (torch.float32, torch.float64) else torch.float32


def _loss_backward(grad, boxes1, boxes2, kind, reduction, eps):
    shape = launch.loss_spec(boxes1.shape, boxes2.shape)
    if reduction == "mean":
        n = 1
        for d in shape[:-1]:
            n *= d
        grad = grad / max(n, 1)
    ga, gb = launch.loss_backward(TORCH, kind, grad, boxes1, boxes2, eps)
    return ga.sum_to_size(boxes1.shape).to(boxes1.dtype), gb.sum_to_size(boxes2.shape).to(boxes2.dtype)


impl("_box_loss_backward", _loss_backward)


@torch.library.register_fake("cvkernels::_box_loss_backward")
def _(grad, boxes1, boxes2, kind, reduction, eps):
    launch.loss_spec(boxes1.shape, boxes2.shape)
    return boxes1.new_empty(boxes1.shape), boxes2.new_empty(boxes2.shape)


def _make_loss(name, kind_name):
    kind = launch.KINDS[kind_name]
    lib.define(f"{name}(Tensor boxes1, Tensor boxes2, str reduction='none', float eps=1e-07) -> Tensor")

    def forward(boxes1, boxes2, reduction="none", eps=1e-7):
        check_reduction(reduction)
        out = launch.loss(TORCH, kind, boxes1, boxes2, eps)
        if reduction == "mean":
            out = out.mean() if out.numel() > 0 else out.sum() * 0.0
        elif reduction == "sum":
            out = out.sum()
        return out.to(_loss_out_dtype(boxes1, boxes2))

    def fake(boxes1, boxes2, reduction="none", eps=1e-7):
        TORCH.same_device(boxes1=boxes1, boxes2=boxes2)
        check_reduction(reduction)
        shape = launch.loss_spec(boxes1.shape, boxes2.shape)
        launch.pair_dtype(TORCH, boxes1, boxes2)
        return boxes1.new_empty(shape[:-1] if reduction == "none" else (), dtype=_loss_out_dtype(boxes1, boxes2))

    impl(name, forward)
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


impl("box_area", lambda boxes: launch.area(TORCH, boxes))


@torch.library.register_fake("cvkernels::box_area")
def _(boxes):
    last_dim("boxes", boxes.shape)
    if boxes.dtype.is_floating_point:
        dtype = TORCH.compute_dtype("boxes", boxes.dtype)
    else:
        dtype = boxes.dtype if boxes.dtype in (torch.int32, torch.int64) else torch.int32
    return boxes.new_empty(boxes.shape[:-1], dtype=dtype)


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


def _convert_out_dtype(boxes):
    return boxes.dtype if boxes.dtype.is_floating_point else TORCH.compute_dtype("boxes", boxes.dtype)


def _box_convert(boxes, in_fmt, out_fmt):
    return launch.convert(TORCH, boxes, in_fmt, out_fmt).to(_convert_out_dtype(boxes))


impl("box_convert", _box_convert)


@torch.library.register_fake("cvkernels::box_convert")
def _(boxes, in_fmt, out_fmt):
    launch.box_format("in_fmt", in_fmt)
    launch.box_format("out_fmt", out_fmt)
    last_dim("boxes", boxes.shape)
    return boxes.new_empty(boxes.shape, dtype=_convert_out_dtype(boxes))


# The conversions are linear: the gradient is the transposed 4x4 matrix of each format pair.
_TO_XYXY = {
    "xyxy": ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)),
    "xywh": ((1, 0, 0, 0), (0, 1, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)),
    "cxcywh": ((1, 0, -0.5, 0), (0, 1, 0, -0.5), (1, 0, 0.5, 0), (0, 1, 0, 0.5)),
}
_FROM_XYXY = {
    "xyxy": ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)),
    "xywh": ((1, 0, 0, 0), (0, 1, 0, 0), (-1, 0, 1, 0), (0, -1, 0, 1)),
    "cxcywh": ((0.5, 0, 0.5, 0), (0, 0.5, 0, 0.5), (-1, 0, 1, 0), (0, -1, 0, 1)),
}


def _convert_setup(ctx, inputs, output):
    ctx.fmts = (inputs[1], inputs[2])
    ctx.in_dtype = inputs[0].dtype


def _convert_backward(ctx, grad):
    f, t = ctx.fmts
    m = torch.tensor(_FROM_XYXY[t], dtype=grad.dtype, device=grad.device) @ torch.tensor(
        _TO_XYXY[f], dtype=grad.dtype, device=grad.device
    )  # out = m @ in for each box
    return (grad @ m).to(ctx.in_dtype), None, None


torch.library.register_autograd("cvkernels::box_convert", _convert_backward, setup_context=_convert_setup)


# --- rotated boxes -------------------------------------------------------------------------------

lib.define("box_iou_rotated(Tensor boxes1, Tensor boxes2) -> Tensor")
impl("box_iou_rotated", lambda a, b: launch.box_iou_rotated(TORCH, a, b).to(TORCH.promote(a.dtype, b.dtype)
                                                                            if a.dtype.is_floating_point
                                                                            else torch.float32))


@torch.library.register_fake("cvkernels::box_iou_rotated")
def _(a, b):
    shape, _ = launch.rotated_spec(TORCH, a, b)
    return a.new_empty(shape, dtype=TORCH.promote(a.dtype, b.dtype) if a.dtype.is_floating_point else torch.float32)


lib.define("nms_rotated(Tensor boxes, Tensor scores, Tensor? idxs, float iou_threshold) -> Tensor")
lib.impl("nms_rotated", lambda b, s, i, thr: launch.nms_rotated(TORCH, b, s, i, thr), "CPU")


@torch.library.register_fake("cvkernels::nms_rotated")
def _(b, s, i, thr):
    return b.new_empty((torch.library.get_ctx().new_dynamic_size(),), dtype=torch.int64)
