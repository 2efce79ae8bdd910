"""Synthetic LVIS-like sets for the LVIS benchmark and tests: 1,203 categories with rare /
common / frequent labels, images with federated labels (positive categories from their ground
truth, verified-negative categories, some not-exhaustive ones), and detections that hit the
ground truth, fire on negative categories, and on categories the image is not labelled with
(which the evaluation drops); some images get more than max_dets detections."""

from __future__ import annotations

import numpy as np


def synthetic_lvis(n_images, n_cats=1203, dets_per_image=300, seed=0, polygons=False):
    """(gt dataset dict, list of result dicts)."""
    rng = np.random.default_rng(seed)
    freq = rng.choice(["r", "c", "f"], size=n_cats, p=[0.3, 0.4, 0.3])
    cats = [{"id": k + 1, "name": f"cat{k + 1}", "frequency": str(freq[k]), "synset": f"s{k + 1}"}
            for k in range(n_cats)]
    images, anns, dets = [], [], []
    ann_id = 1
    for i in range(n_images):
        img_id = int(i * 3 + 1)  # not contiguous
        W, H = 640, 480
        pos = rng.choice(n_cats, size=int(rng.integers(1, 8)), replace=False) + 1
        rest = np.setdiff1d(np.arange(1, n_cats + 1), pos)
        neg = rng.choice(rest, size=int(rng.integers(0, 12)), replace=False)
        nel = pos[rng.random(len(pos)) < 0.15]
        images.append({"id": img_id, "width": W, "height": H, "neg_category_ids": [int(c) for c in neg],
                       "not_exhaustive_category_ids": [int(c) for c in nel]})
        boxes = []
        for c in pos:
            for _ in range(int(rng.integers(1, 4))):
                w, h = float(rng.uniform(4, 300)), float(rng.uniform(4, 300))
                x, y = float(rng.uniform(0, W - w)), float(rng.uniform(0, H - h))
                ann = {"id": ann_id, "image_id": img_id, "category_id": int(c), "bbox": [x, y, w, h],
                       "area": w * h * float(rng.uniform(0.6, 1.0))}
                if polygons:
                    ann["segmentation"] = [[x, y, x + w, y, x + w * 0.7, y + h, x, y + h * 0.8]]
                anns.append(ann)
                boxes.append((int(c), x, y, w, h))
                ann_id += 1
        n_det = dets_per_image + (int(rng.integers(1, 40)) if rng.random() < 0.2 else -int(rng.integers(0, 50)))
        for _ in range(max(n_det, 0)):
            r = rng.random()
            if r < 0.4 and boxes:  # near a ground-truth box
                c, x, y, w, h = boxes[int(rng.integers(len(boxes)))]
                j = rng.normal(0, 0.1, 4) * [w, h, w, h]
                box = [x + j[0], y + j[1], max(w + j[2], 1.0), max(h + j[3], 1.0)]
                if rng.random() < 0.1:
                    c = int(rng.choice(pos))
            else:
                c = int(rng.choice(neg)) if (r < 0.7 and len(neg)) else int(rng.integers(1, n_cats + 1))
                w, h = float(rng.uniform(4, 200)), float(rng.uniform(4, 200))
                box = [float(rng.uniform(0, W - w)), float(rng.uniform(0, H - h)), w, h]
            score = float(np.round(rng.random(), 3))  # ties
            det = {"image_id": img_id, "category_id": int(c), "bbox": [float(v) for v in box], "score": score}
            if polygons:
                x, y, w, h = det["bbox"]
                det["segmentation"] = [[x, y, x + w, y, x + w, y + h * 0.9, x + w * 0.1, y + h]]
                del det["bbox"]
            dets.append(det)
    gt = {"info": {}, "licenses": [], "images": images, "annotations": anns, "categories": cats}
    return gt, dets
