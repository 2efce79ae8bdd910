"""The GPU orchestration of NMS: torch ranks, gathers and merges; the CUDA building blocks of
cvkernels._C_cuda (nms_sorted, soft_nms_segments, greedy_sets) do the suppression. Used by the
launchers in nms.py for CUDA tensors only."""

from __future__ import annotations



def rank_order(torch, scores):
    """Decreasing score, ties by lower index, NaN as -inf (the CPU kernels' order)."""
    key = torch.where(torch.isnan(scores), torch.full_like(scores, float("-inf")), scores)
    return torch.sort(key, descending=True, stable=True).indices


def greedy(xp, boxes, scores, idxs, thr):
    """Bitmask NMS on the GPU over the boxes in rank order; the suppression walk runs on the device."""
    torch = xp.torch
    n = boxes.shape[0]
    k = xp.kernels(boxes)
    # The bitmask holds n * ceil(n / 64) words: refuse what the kernel cannot take before allocating it.
    if n > k.NMS_SORTED_MAX_BOXES:
        raise ValueError(f"boxes: CUDA nms takes at most {k.NMS_SORTED_MAX_BOXES} boxes, got {n}")
    order = rank_order(torch, scores)
    b = boxes[order].contiguous()
    cls = None if idxs is None else idxs[order].contiguous()
    words = (n + 63) // 64
    mask = xp.empty((n, words), xp.int64, b)
    keep = xp.empty((n,), xp.int64, b)
    count = xp.empty((1,), xp.int64, b)
    k.nms_sorted(xp.view(b), None if cls is None else xp.view(cls), thr, xp.view(mask), xp.view(keep),
                             xp.view(count), xp.stream(b))
    return order[keep[: int(count.item())]]


def soft(xp, b, s, idxs, thr, sigma, sthr, method):
    """One thread block per class runs the selection loop; torch merges the classes."""
    torch = xp.torch
    n = b.shape[0]
    dev = b.device
    if idxs is None:
        order = torch.arange(n, device=dev)
        offsets = torch.tensor([0, n], dtype=torch.int64, device=dev)
    else:
        order = torch.sort(idxs, stable=True).indices
        _, counts = torch.unique_consecutive(idxs[order], return_counts=True)
        offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    segs = offsets.numel() - 1
    bo, so = b[order].contiguous(), s[order].contiguous()
    keep = xp.empty((n,), xp.int64, b)  # positions within the ordered set
    kept = xp.empty((n,), b.dtype, b)
    counts = xp.empty((segs,), xp.int64, b)
    xp.kernels(b).soft_nms_segments(xp.view(bo), xp.view(so), xp.view(offsets), thr, sigma, sthr, method,
                                    xp.view(keep), xp.view(kept), xp.view(counts), xp.stream(b))
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


def multiclass(xp, b, s, B, N, C, per_class, sthr, thr, per, total, agnostic):
    """torch ranks the candidates of each set; one block per set walks them on the GPU (greedy
    against its kept boxes); torch merges the classes and pads."""
    torch = xp.torch
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
    # The threshold compared in the scores' dtype rounds differently from the CPU's double
    # comparison only at the rounding boundary: compare in double, as the CPU does.
    passes = key.double() > sthr  # NaN fails
    key = torch.where(passes, key, torch.full_like(key, float("-inf")))
    order = torch.sort(key, dim=-1, descending=True, stable=True).indices
    cand = torch.gather(ids, -1, order).contiguous()  # candidate ids in rank order
    valid = passes.sum(-1).contiguous()  # (B, S)
    S = cand.shape[1]
    kept_ids = xp.empty((B, S, max(cap, 1)), xp.int64, b)
    kept_n = xp.empty((B, S), xp.int64, b)
    scratch = xp.empty((B * S, max(cap, 1), 4), b.dtype, b)
    xp.kernels(b).greedy_sets(xp.view(b), xp.view(cand), xp.view(valid), C, thr, cap, xp.view(kept_ids),
                              xp.view(kept_n), xp.view(scratch), xp.stream(b))
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
