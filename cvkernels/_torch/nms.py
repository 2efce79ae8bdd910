"""torch.ops.cvkernels NMS operators: schemas, CPU implementations (cvkernels._C), CUDA
implementations (torch does the sorting and gathering, cvkernels._C_cuda the suppression),
and fake kernels (data-dependent output sizes are dynamic)."""

from __future__ import annotations

import torch

from .._nms_rules import check_method, check_nms_shapes, multiclass_dims
from ._common import code, compute_dtype, kernels, lib, stream_args


def _check(boxes, scores, idxs=None):
    n = check_nms_shapes(boxes.shape, scores.shape, None if idxs is None else idxs.shape)
    for name, t in (("scores", scores), ("idxs", idxs)):
        if t is not None and t.device != boxes.device:
            raise ValueError(f"boxes and {name} must be on the same device, got {boxes.device} and {t.device}")
    if idxs is not None and (idxs.dtype.is_floating_point or idxs.dtype.is_complex):
        raise TypeError(f"idxs must be an integer tensor, got {idxs.dtype}")
    ct = compute_dtype("boxes", boxes.dtype)
    cs = compute_dtype("scores", scores.dtype)
    return n, torch.promote_types(ct, cs)


def _prep(boxes, scores, ct):
    return boxes.to(ct).contiguous(), scores.to(ct).contiguous()


def _rank_order(scores):
    """Decreasing score, ties by lower index, NaN as -inf (the CPU kernels' order)."""
    key = torch.where(torch.isnan(scores), torch.full_like(scores, float("-inf")), scores)
    return torch.sort(key, descending=True, stable=True).indices


def _cuda_greedy(boxes, scores, idxs, thr):
    """Bitmask NMS on the GPU: the suppression walk runs on the device too."""
    n = boxes.shape[0]
    order = _rank_order(scores)
    b = boxes[order].contiguous()
    cls = idxs[order].to(torch.int64).contiguous() if idxs is not None else None
    words = (n + 63) // 64
    mask = torch.empty((n, words), dtype=torch.int64, device=boxes.device)
    keep = torch.empty(n, dtype=torch.int64, device=boxes.device)
    count = torch.empty(1, dtype=torch.int64, device=boxes.device)
    kernels(boxes.device).nms(
        code(b.dtype), b.data_ptr(), 0 if cls is None else cls.data_ptr(), n, thr, mask.data_ptr(),
        keep.data_ptr(), count.data_ptr(), *stream_args(boxes.device),
    )
    return order[keep[: int(count.item())]]


# --- nms, batched_nms ----------------------------------------------------------------------

lib.define("nms(Tensor boxes, Tensor scores, float iou_threshold) -> Tensor")
lib.define("batched_nms(Tensor boxes, Tensor scores, Tensor idxs, float iou_threshold) -> Tensor")


def _nms_impl(boxes, scores, iou_threshold):
    n, ct = _check(boxes, scores)
    b, s = _prep(boxes, scores, ct)
    if n == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    if b.is_cuda:
        return _cuda_greedy(b, s, None, iou_threshold)
    keep = torch.empty(n, dtype=torch.int64)
    k = kernels(b.device).nms(code(ct), b.data_ptr(), s.data_ptr(), n, iou_threshold, keep.data_ptr())
    return keep[:k].clone()


def _batched_impl(boxes, scores, idxs, iou_threshold):
    n, ct = _check(boxes, scores, idxs)
    b, s = _prep(boxes, scores, ct)
    if n == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    if b.is_cuda:
        return _cuda_greedy(b, s, idxs, iou_threshold)
    i = idxs.to(torch.int64).contiguous()
    keep = torch.empty(n, dtype=torch.int64)
    k = kernels(b.device).batched_nms(code(ct), b.data_ptr(), s.data_ptr(), i.data_ptr(), n, iou_threshold,
                                      keep.data_ptr())
    return keep[:k].clone()


for _dev in ("CPU", "CUDA"):
    lib.impl("nms", _nms_impl, _dev)
    lib.impl("batched_nms", _batched_impl, _dev)


def _dynamic_keep(boxes, n):
    k = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((k,), dtype=torch.int64)


@torch.library.register_fake("cvkernels::nms")
def _(boxes, scores, iou_threshold):
    n, _ = _check(boxes, scores)
    return _dynamic_keep(boxes, n)


@torch.library.register_fake("cvkernels::batched_nms")
def _(boxes, scores, idxs, iou_threshold):
    n, _ = _check(boxes, scores, idxs)
    return _dynamic_keep(boxes, n)


# --- soft_nms ------------------------------------------------------------------------------

lib.define(
    "soft_nms(Tensor boxes, Tensor scores, Tensor? idxs, float iou_threshold=0.3, float sigma=0.5, "
    "float score_threshold=0.001, str method='gaussian') -> (Tensor, Tensor)"
)


def _soft_out_dtype(scores, ct):
    return scores.dtype if scores.dtype.is_floating_point else ct


def _soft_impl(boxes, scores, idxs, iou_threshold=0.3, sigma=0.5, score_threshold=0.001, method="gaussian"):
    n, ct = _check(boxes, scores, idxs)
    m = check_method(method)
    b, s = _prep(boxes, scores, ct)
    od = _soft_out_dtype(scores, ct)
    if n == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device), torch.empty(0, dtype=od, device=boxes.device)
    if b.is_cuda:
        keep, kept = _cuda_soft(b, s, idxs, iou_threshold, sigma, score_threshold, m)
        return keep, kept.to(od)
    i = None if idxs is None else idxs.to(torch.int64).contiguous()
    keep = torch.empty(n, dtype=torch.int64)
    new_scores = torch.empty(n, dtype=ct)
    k = kernels(b.device).soft_nms(code(ct), b.data_ptr(), s.data_ptr(), 0 if i is None else i.data_ptr(), n,
                                   iou_threshold, sigma, score_threshold, m, keep.data_ptr(), new_scores.data_ptr())
    return keep[:k].clone(), new_scores[:k].to(od)


def _cuda_soft(b, s, idxs, thr, sigma, sthr, method):
    """One thread block per class runs the selection loop; torch merges the classes."""
    n = b.shape[0]
    dev = b.device
    if idxs is None:
        order = torch.arange(n, device=dev)
        offsets = torch.tensor([0, n], dtype=torch.int64, device=dev)
    else:
        order = torch.sort(idxs.to(torch.int64), stable=True).indices
        _, counts = torch.unique_consecutive(idxs.to(torch.int64)[order], return_counts=True)
        offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    segs = offsets.numel() - 1
    bo = b[order].contiguous()
    so = s[order].contiguous()
    keep = torch.empty(n, dtype=torch.int64, device=dev)  # positions within the ordered set
    kept = torch.empty(n, dtype=b.dtype, device=dev)
    counts = torch.empty(segs, dtype=torch.int64, device=dev)
    kernels(dev).soft_nms(code(b.dtype), bo.data_ptr(), so.data_ptr(), offsets.data_ptr(), segs, thr, sigma, sthr,
                          method, keep.data_ptr(), kept.data_ptr(), counts.data_ptr(), *stream_args(dev))
    # Segment k wrote counts[k] results at offsets[k]: gather them, then order by
    # (decayed score desc, index asc) with two stable sorts.
    pos = torch.arange(n, device=dev)
    seg_of = torch.repeat_interleave(torch.arange(segs, device=dev), offsets.diff())
    valid = (pos - offsets[seg_of]) < counts[seg_of]
    idx = order[keep[valid]]
    sc = kept[valid]
    o1 = torch.sort(idx, stable=True).indices
    o2 = torch.sort(sc[o1], descending=True, stable=True).indices
    final = o1[o2]
    return idx[final], sc[final]


for _dev in ("CPU", "CUDA"):
    lib.impl("soft_nms", _soft_impl, _dev)


@torch.library.register_fake("cvkernels::soft_nms")
def _(boxes, scores, idxs, iou_threshold=0.3, sigma=0.5, score_threshold=0.001, method="gaussian"):
    n, ct = _check(boxes, scores, idxs)
    check_method(method)
    k = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((k,), dtype=torch.int64), boxes.new_empty((k,), dtype=_soft_out_dtype(scores, ct))


# --- multiclass_nms (fixed shapes) ---------------------------------------------------------

lib.define(
    "multiclass_nms(Tensor boxes, Tensor scores, float score_threshold=0.05, float iou_threshold=0.5, "
    "int max_output_per_class=100, int max_total=100, bool class_agnostic=False) -> (Tensor, Tensor, Tensor, Tensor)"
)


def _mc_check(boxes, scores, max_output_per_class, max_total):
    if boxes.device != scores.device:
        raise ValueError(f"boxes and scores must be on the same device, got {boxes.device} and {scores.device}")
    if max_output_per_class < 0 or max_total < 0:
        raise ValueError("max_output_per_class and max_total must be >= 0")
    dims = multiclass_dims(boxes.shape, scores.shape)
    ct = torch.promote_types(compute_dtype("boxes", boxes.dtype), compute_dtype("scores", scores.dtype))
    return dims, ct


def _mc_impl(boxes, scores, score_threshold=0.05, iou_threshold=0.5, max_output_per_class=100, max_total=100,
             class_agnostic=False):
    (B, N, C, per_class), ct = _mc_check(boxes, scores, max_output_per_class, max_total)
    b, s = _prep(boxes, scores, ct)
    dev = b.device
    if b.is_cuda:
        return _cuda_multiclass(b, s, B, N, C, per_class, score_threshold, iou_threshold, max_output_per_class,
                                max_total, class_agnostic)
    num = torch.empty(B, dtype=torch.int64)
    ob = torch.empty((B, max_total, 4), dtype=ct)
    os_ = torch.empty((B, max_total), dtype=ct)
    oc = torch.empty((B, max_total), dtype=torch.int64)
    kernels(dev).multiclass_nms(code(ct), b.data_ptr(), s.data_ptr(), B, N, C, per_class, score_threshold,
                                iou_threshold, max_output_per_class, max_total, class_agnostic, num.data_ptr(),
                                ob.data_ptr(), os_.data_ptr(), oc.data_ptr())
    return num, ob, os_, oc


def _cuda_multiclass(b, s, B, N, C, per_class, sthr, thr, per, total, agnostic):
    """torch ranks the candidates of each set; one block per set walks them on the GPU (greedy
    against its kept boxes); torch merges the classes and pads."""
    dev = b.device
    K = total
    # A set is (image, class) or, class-agnostic, an image; candidate id = n * C + c.
    if agnostic:
        key = s.reshape(B, 1, N * C)
        ids = torch.arange(N * C, device=dev).expand(B, 1, N * C)
        cap = K
    else:
        key = s.permute(0, 2, 1)  # (B, C, N)
        ids = torch.arange(N, device=dev).view(1, 1, N) * C + torch.arange(C, device=dev).view(1, C, 1)
        ids = ids.expand(B, C, N)
        cap = per
    passes = key > sthr  # NaN fails
    key = torch.where(passes, key, torch.full_like(key, float("-inf")))
    order = torch.sort(key, dim=-1, descending=True, stable=True).indices
    cand = torch.gather(ids, -1, order).contiguous()  # candidate ids in rank order
    valid = passes.sum(-1).contiguous()  # (B, S)
    S = cand.shape[1]
    L = cand.shape[2]
    kept_ids = torch.empty((B, S, max(cap, 1)), dtype=torch.int64, device=dev)
    kept_n = torch.empty((B, S), dtype=torch.int64, device=dev)
    scratch = torch.empty((B * S, max(cap, 1), 4), dtype=b.dtype, device=dev)
    kernels(dev).greedy_sets(
        code(b.dtype), b.data_ptr(), cand.data_ptr(), valid.data_ptr(), B * S, S, L, N, C, per_class, thr, cap,
        kept_ids.data_ptr(), kept_n.data_ptr(), scratch.data_ptr(), *stream_args(dev),
    )
    # Merge per image: (score desc, id asc) over the kept ids of all its sets.
    flat_ids = kept_ids.reshape(B, -1)
    slot = torch.arange(kept_ids.shape[-1], device=dev).view(1, 1, -1)
    live = (slot < kept_n.unsqueeze(-1)).reshape(B, -1)
    safe_ids = torch.where(live, flat_ids, torch.zeros_like(flat_ids))
    sc = torch.gather(s.reshape(B, N * C), 1, safe_ids)
    sc = torch.where(live, sc, torch.full_like(sc, float("-inf")))
    big = torch.full_like(flat_ids, N * C)
    o1 = torch.sort(torch.where(live, flat_ids, big), dim=1, stable=True).indices
    o2 = torch.sort(torch.gather(sc, 1, o1), dim=1, descending=True, stable=True).indices
    top = torch.gather(o1, 1, o2)[:, :K]
    num = live.sum(1).clamp(max=K)
    out_ids = torch.gather(safe_ids, 1, top)
    out_scores = torch.gather(sc, 1, top)
    pad = torch.arange(top.shape[1], device=dev).view(1, -1) >= num.view(-1, 1)
    if per_class:
        bx = torch.gather(b.reshape(B, N * C, 4), 1, out_ids.unsqueeze(-1).expand(-1, -1, 4))
    else:
        bx = torch.gather(b, 1, (out_ids // C).unsqueeze(-1).expand(-1, -1, 4))
    ob = torch.zeros((B, K, 4), dtype=b.dtype, device=dev)
    os_ = torch.zeros((B, K), dtype=b.dtype, device=dev)
    oc = torch.full((B, K), -1, dtype=torch.int64, device=dev)
    w = top.shape[1]
    ob[:, :w] = torch.where(pad.unsqueeze(-1), torch.zeros_like(bx), bx)
    os_[:, :w] = torch.where(pad, torch.zeros_like(out_scores), out_scores)
    oc[:, :w] = torch.where(pad, torch.full_like(out_ids, -1), out_ids % C)
    return num, ob, os_, oc


for _dev in ("CPU", "CUDA"):
    lib.impl("multiclass_nms", _mc_impl, _dev)


@torch.library.register_fake("cvkernels::multiclass_nms")
def _(boxes, scores, score_threshold=0.05, iou_threshold=0.5, max_output_per_class=100, max_total=100,
      class_agnostic=False):
    (B, N, C, _), ct = _mc_check(boxes, scores, max_output_per_class, max_total)
    return (
        boxes.new_empty((B,), dtype=torch.int64),
        boxes.new_empty((B, max_total, 4), dtype=ct),
        boxes.new_empty((B, max_total), dtype=ct),
        boxes.new_empty((B, max_total), dtype=torch.int64),
    )
