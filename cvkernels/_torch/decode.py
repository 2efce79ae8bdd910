"""torch.ops.cvkernels dense decoding operators: schema, CPU implementation (the launcher of
cvkernels._launch.decode with the torch adapter) and fake kernel."""

from __future__ import annotations

import torch

from .._launch import decode as launch
from ._common import TORCH, lib

lib.define("heatmap_peaks(Tensor heat, Tensor wh, Tensor? reg, int K, int kernel) -> (Tensor, Tensor, Tensor, Tensor)")


def _peaks(heat, wh, reg, K, kernel):
    boxes, scores, classes, inds = launch.heatmap_peaks(TORCH, heat, wh, reg, K, kernel)
    return boxes.to(heat.dtype), scores.to(heat.dtype), classes, inds


lib.impl("heatmap_peaks", _peaks, "CPU")


@torch.library.register_fake("cvkernels::heatmap_peaks")
def _(heat, wh, reg, K, kernel):
    B, _ = launch.peaks_spec(TORCH, heat, wh, reg, K, kernel)
    return (heat.new_empty((B, K, 4)), heat.new_empty((B, K)), heat.new_empty((B, K), dtype=torch.int64),
            heat.new_empty((B, K), dtype=torch.int64))


# --- box coding ----------------------------------------------------------------------------------

lib.define("decode_boxes(Tensor rel_codes, Tensor boxes, float[] weights, float clip) -> Tensor")
lib.define("encode_boxes(Tensor reference_boxes, Tensor proposals, float[] weights) -> Tensor")
lib.define("decode_topk(Tensor logits, Tensor box_regression, Tensor anchors, float score_thresh, int topk, "
           "float[] weights, float clip, float[]? image_size) -> (Tensor, Tensor, Tensor, Tensor)")

lib.impl("decode_boxes", lambda d, a, weights, clip: launch.decode_boxes(TORCH, d, a, weights, clip).to(
    TORCH.promote(d.dtype, a.dtype)), "CPU")
lib.impl("encode_boxes", lambda b, r, weights: launch.encode_boxes(TORCH, b, r, weights).to(
    TORCH.promote(b.dtype, r.dtype)), "CPU")


def _decode_topk(logits, box_regression, anchors, score_thresh, topk, weights, clip, image_size):
    boxes, scores, labels, idx = launch.decode_topk(TORCH, logits, box_regression, anchors, score_thresh, topk,
                                                    weights, clip, image_size)
    return boxes.to(logits.dtype), scores.to(logits.dtype), labels, idx


lib.impl("decode_topk", _decode_topk, "CPU")


lib.define("decode_yolo(Tensor pred, Tensor anchors, float stride, float conf_thres, int topk, str version) -> "
           "(Tensor, Tensor, Tensor, Tensor)")


def _decode_yolo(pred, anchors, stride, conf_thres, topk, version):
    boxes, scores, labels, idx = launch.decode_yolo(TORCH, pred, anchors, stride, conf_thres, topk, version)
    return boxes.to(pred.dtype), scores.to(pred.dtype), labels, idx


lib.impl("decode_yolo", _decode_yolo, "CPU")


@torch.library.register_fake("cvkernels::decode_yolo")
def _(pred, anchors, stride, conf_thres, topk, version):
    launch.yolo_spec(TORCH, pred, anchors, stride, topk, version)
    k = torch.library.get_ctx().new_dynamic_size()
    return (pred.new_empty((k, 4)), pred.new_empty((k,)), pred.new_empty((k,), dtype=torch.int64),
            pred.new_empty((k,), dtype=torch.int64))


@torch.library.register_fake("cvkernels::decode_boxes")
def _(d, a, weights, clip):
    launch.coding_spec(TORCH, d, a, ("rel_codes", "boxes"))
    return d.new_empty(tuple(d.shape), dtype=TORCH.promote(d.dtype, a.dtype))


@torch.library.register_fake("cvkernels::encode_boxes")
def _(b, r, weights):
    launch.coding_spec(TORCH, b, r, ("reference_boxes", "proposals"))
    return b.new_empty(tuple(b.shape), dtype=TORCH.promote(b.dtype, r.dtype))


@torch.library.register_fake("cvkernels::decode_topk")
def _(logits, box_regression, anchors, score_thresh, topk, weights, clip, image_size):
    launch.topk_spec(TORCH, logits, box_regression, anchors, topk)
    k = torch.library.get_ctx().new_dynamic_size()
    return (logits.new_empty((k, 4)), logits.new_empty((k,)), logits.new_empty((k,), dtype=torch.int64),
            logits.new_empty((k,), dtype=torch.int64))


def _decode_setup(ctx, inputs, output):
    d, a, weights, clip = inputs
    ctx.save_for_backward(d, a)
    ctx.weights, ctx.clip = weights, clip


def _decode_backward(ctx, g):
    """d out / d rel_codes (box_coding.h's decode_box differentiated; clamp passes the gradient
    where dw <= clip, as torch.clamp does). No gradient for the reference boxes."""
    d, a = ctx.saved_tensors
    if ctx.needs_input_grad[1]:
        raise NotImplementedError("cvkernels.decode_boxes has no gradient with respect to boxes (the anchors)")
    wx, wy, ww, wh = ctx.weights
    cdt = g.dtype
    d, a = d.to(cdt), a.to(cdt)
    W, H = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    dw, dh = d[:, 2] / ww, d[:, 3] / wh
    pw = torch.exp(dw.clamp(max=ctx.clip)) * W
    ph = torch.exp(dh.clamp(max=ctx.clip)) * H
    gd = torch.stack([(g[:, 0] + g[:, 2]) * W / wx, (g[:, 1] + g[:, 3]) * H / wy,
                      0.5 * (g[:, 2] - g[:, 0]) * pw / ww * (dw <= ctx.clip),
                      0.5 * (g[:, 3] - g[:, 1]) * ph / wh * (dh <= ctx.clip)], 1)
    return gd, None, None, None


torch.library.register_autograd("cvkernels::decode_boxes", _decode_backward, setup_context=_decode_setup)
