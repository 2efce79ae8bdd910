"""Synthetic COCO-panoptic-like image pairs for the PQ benchmark and tests: stuff in bands,
thing instances as rectangles on top, void borders and holes, some crowd regions; predictions
that shift, drop, merge and relabel segments, with their own segment ids."""

from __future__ import annotations

import json
import os

import numpy as np


def categories(n_things=80, n_stuff=53):
    return ([{"id": i + 1, "name": f"thing{i + 1}", "isthing": 1} for i in range(n_things)]
            + [{"id": n_things + i + 1, "name": f"stuff{i + 1}", "isthing": 0} for i in range(n_stuff)])


def _fresh_ids(rng, k):
    return rng.choice(np.arange(1, 1 << 24), size=k, replace=False)


def synthetic_pair(rng, H, W, cats):
    """(gt_map, gt_segments_info, pred_map, pred_segments_info), int32 id maps."""
    things = [c["id"] for c in cats if c["isthing"]]
    stuff = [c["id"] for c in cats if not c["isthing"]]
    # ground truth: labels 1.. on a canvas, each label with a category and a crowd flag
    canvas = np.zeros((H, W), np.int64)
    seg_cat, seg_crowd = [0], [0]
    n_bands = int(rng.integers(2, min(6, len(stuff) + 1)))
    cuts = np.sort(rng.choice(np.arange(1, H), n_bands - 1, replace=False))
    for lab, (a, b) in enumerate(zip(np.r_[0, cuts], np.r_[cuts, H]), start=1):
        canvas[a:b] = lab
    seg_cat += list(rng.choice(stuff, n_bands, replace=False))
    seg_crowd += [0] * n_bands
    for _ in range(int(rng.integers(3, 16))):
        h, w = int(rng.integers(4, H // 2)), int(rng.integers(4, W // 2))
        y, x = int(rng.integers(0, H - h)), int(rng.integers(0, W - w))
        canvas[y:y + h, x:x + w] = len(seg_cat)
        seg_cat.append(int(rng.choice(things)))
        seg_crowd.append(int(rng.random() < 0.08))
    canvas[:, : int(rng.integers(0, 4))] = 0  # void border and a void hole
    y, x = int(rng.integers(0, H - 4)), int(rng.integers(0, W - 4))
    canvas[y:y + 4, x:x + 4] = 0
    # prediction: things shifted a little, some dropped, some with another category
    pred = canvas.copy()
    pred_cat = list(seg_cat)
    for lab in range(n_bands + 1, len(seg_cat)):
        r = rng.random()
        where = canvas == lab
        if r < 0.15:  # dropped: the band below shows through (its label where the band was)
            pred[where] = 1 + np.searchsorted(cuts, np.nonzero(where)[0], side="right")
        elif r < 0.6:
            dy, dx = rng.integers(-3, 4, 2)
            pred[where] = 0 if rng.random() < 0.1 else pred[where]
            pred[np.roll(np.roll(where, dy, 0), dx, 1)] = lab
        if rng.random() < 0.1:
            pred_cat[lab] = int(rng.choice(things))
    if rng.random() < 0.5:  # two bands predicted as one segment
        pred[pred == 2] = 1
    pred[rng.random((H, W)) < 0.002] = 0  # scattered void predictions

    def finish(m, cat, crowd, with_area):
        labels = np.unique(m)
        labels = labels[labels != 0]
        ids = np.zeros(len(cat), np.int64)
        ids[labels] = _fresh_ids(rng, len(labels))
        out = ids[m].astype(np.int32)  # COCO ids are below 2^24
        info = []
        for lab in labels:
            s = {"id": int(ids[lab]), "category_id": int(cat[lab])}
            if with_area:
                s["iscrowd"] = int(crowd[lab])
                s["area"] = int((m == lab).sum())
            info.append(s)
        return out, info

    g, gi = finish(canvas, seg_cat, seg_crowd, True)
    p, pi = finish(pred, pred_cat, seg_crowd, False)
    return g, gi, p, pi


def synthetic_panoptic(n_images, H=480, W=640, seed=0, n_things=80, n_stuff=53, distinct=None):
    """(pairs, categories). With distinct=k only k pairs are drawn and repeated (memory)."""
    rng = np.random.default_rng(seed)
    cats = categories(n_things, n_stuff)
    drawn = [synthetic_pair(rng, H, W, cats) for _ in range(min(n_images, distinct or n_images))]
    return [drawn[i % len(drawn)] for i in range(n_images)], cats


def write_panoptic(folder, pairs, cats):
    """COCO panoptic files for the pairs: folder/{gt,pred}.json and folder/{gt,pred}/*.png.
    Returns (gt_json, pred_json) paths."""
    from PIL import Image

    from ..panoptic import id2rgb

    paths = []
    for side in ("gt", "pred"):
        os.makedirs(os.path.join(folder, side), exist_ok=True)
        anns = []
        for i, (g, gi, p, pi) in enumerate(pairs):
            m, info = (g, gi) if side == "gt" else (p, pi)
            name = f"{i:06d}.png"
            Image.fromarray(id2rgb(m)).save(os.path.join(folder, side, name))
            anns.append({"image_id": i, "file_name": name, "segments_info": info})
        doc = {"annotations": anns, "categories": cats,
               "images": [{"id": i, "file_name": f"{i:06d}.jpg", "height": int(pairs[i][0].shape[0]),
                           "width": int(pairs[i][0].shape[1])} for i in range(len(pairs))]}
        path = os.path.join(folder, f"{side}.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        paths.append(path)
    return tuple(paths)
