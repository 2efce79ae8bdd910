"""Panoptic quality from its definition with COCO panoptic's rules, pixel by pixel in plain
Python (small images only). The tests hold cvkernels.panoptic to this and to panopticapi.

For each image: count the pixels of every (gt segment, predicted segment) pair; a non-crowd
ground-truth segment g and a prediction p of the same category match when
    IoU = |g & p| / (|p| + area(g) - |g & p| - |p & void|) > 0.5
(area(g) from segments_info, |p| counted on the map, void = gt id 0). Per category:
tp = matches, IoU sum over them, fn = unmatched non-crowd gt segments, fp = unmatched
predictions with at most half their pixels on void plus the category's crowd region.
PQ_c = IoU sum / (tp + fp / 2 + fn / 2), SQ_c = IoU sum / tp, RQ_c = tp / (tp + fp / 2 + fn / 2);
PQ = mean over the categories with tp + fp + fn > 0.
"""

from __future__ import annotations

from collections import defaultdict


def panoptic_stats(pairs, categories):
    """{category id: [tp, fp, fn, iou sum]} over (gt_map, gt_info, pred_map, pred_info) pairs
    with (H, W) integer id maps."""
    stats = {c["id"]: [0, 0, 0, 0.0] for c in categories}
    for gt, gt_info, pred, pred_info in pairs:
        gsegs = {s["id"]: s for s in gt_info}
        psegs = {s["id"]: s for s in pred_info}
        inter = defaultdict(int)
        parea = defaultdict(int)
        for g_row, p_row in zip(gt.tolist(), pred.tolist()):
            for g, p in zip(g_row, p_row):
                inter[(g, p)] += 1
                parea[p] += 1
        matched_g, matched_p = set(), set()
        for (g, p), n in sorted(inter.items()):
            if g not in gsegs or p not in psegs or gsegs[g].get("iscrowd", 0):
                continue
            if gsegs[g]["category_id"] != psegs[p]["category_id"]:
                continue
            iou = n / (parea[p] + gsegs[g]["area"] - n - inter.get((0, p), 0))
            if iou > 0.5:
                st = stats[gsegs[g]["category_id"]]
                st[0] += 1
                st[3] += iou
                matched_g.add(g)
                matched_p.add(p)
        crowd = {}
        for g, s in gsegs.items():
            if g in matched_g:
                continue
            if s.get("iscrowd", 0):
                crowd[s["category_id"]] = g
            else:
                stats[s["category_id"]][2] += 1
        for p, s in psegs.items():
            if p in matched_p:
                continue
            covered = inter.get((0, p), 0)
            if s["category_id"] in crowd:
                covered += inter.get((crowd[s["category_id"]], p), 0)
            if covered / parea[p] <= 0.5:
                stats[s["category_id"]][1] += 1
    return stats


def panoptic_quality(pairs, categories):
    """{"All" | "Things" | "Stuff": {"pq", "sq", "rq", "n"}} from panoptic_stats."""
    stats = panoptic_stats(pairs, categories)
    out = {}
    for name, want in (("All", None), ("Things", 1), ("Stuff", 0)):
        rows = []
        for c in categories:
            if want is not None and int(c.get("isthing", 0) == 1) != want:
                continue
            tp, fp, fn, iou = stats[c["id"]]
            if tp + fp + fn:
                d = tp + 0.5 * fp + 0.5 * fn
                rows.append((iou / d, iou / tp if tp else 0.0, tp / d))
        n = len(rows)
        out[name] = {"pq": sum(r[0] for r in rows) / n if n else float("nan"),
                     "sq": sum(r[1] for r in rows) / n if n else float("nan"),
                     "rq": sum(r[2] for r in rows) / n if n else float("nan"), "n": n}
    return out
