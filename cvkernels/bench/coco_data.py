"""Synthetic COCO-style data for tests and benchmarks: a val2017-like mix of small / medium /
large boxes, about 1% crowd, images without ground truth or without detections, categories
without ground truth, and detections (jittered ground truth plus false positives) whose
scores can be rounded to force ties."""

from __future__ import annotations

import numpy as np


def synthetic_coco(n_images=50, n_cats=8, gt_per_image=7.2, dets_per_image=42, seed=0, crowd_frac=0.01,
                   score_decimals=None, max_dets=100, empty_cats=1, first_id=1):
    rng = np.random.default_rng(seed)
    images = [{"id": int(i), "width": 640, "height": 480, "file_name": f"{i}.jpg"} for i in range(first_id, first_id + n_images)]
    cats = [{"id": int(c), "name": f"class{c}", "supercategory": "thing"} for c in range(1, n_cats + 1)]
    used_cats = max(1, n_cats - empty_cats)  # the last categories get no ground truth
    anns, dets = [], []
    ann_id = first_id
    for img in images:
        n_gt = rng.poisson(gt_per_image) if img["id"] % 11 != 3 else 0  # some images without gt
        boxes = []
        for _ in range(n_gt):
            # log-uniform sizes: roughly COCO's mix of small, medium and large
            side = float(np.exp(rng.uniform(np.log(4), np.log(400))))
            aspect = float(np.exp(rng.uniform(-0.7, 0.7)))
            w, h = side * aspect, side / aspect
            x, y = rng.uniform(0, 640 - min(w, 639)), rng.uniform(0, 480 - min(h, 479))
            cat = int(rng.integers(1, used_cats + 1))
            crowd = int(rng.uniform() < crowd_frac)
            box = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
            anns.append({"id": ann_id, "image_id": img["id"], "category_id": cat, "bbox": box,
                         "area": float(box[2] * box[3] * rng.uniform(0.6, 1.0)), "iscrowd": crowd})
            ann_id += 1
            boxes.append((box, cat))
        if img["id"] % 13 == 5:
            continue  # an image without detections
        n_det = min(max_dets + 20, rng.poisson(dets_per_image))
        for j in range(n_det):
            if boxes and rng.uniform() < 0.6:
                (x, y, w, h), cat = boxes[rng.integers(len(boxes))]
                jit = rng.normal(0, 0.12, 4)
                box = [x + w * jit[0], y + h * jit[1], w * np.exp(jit[2]), h * np.exp(jit[3])]
                if rng.uniform() < 0.1:
                    cat = int(rng.integers(1, n_cats + 1))
                score = rng.uniform(0.3, 1.0)
            else:
                side = float(np.exp(rng.uniform(np.log(4), np.log(300))))
                box = [rng.uniform(0, 600), rng.uniform(0, 440), side, side * rng.uniform(0.5, 2)]
                cat = int(rng.integers(1, n_cats + 1))
                score = rng.uniform(0.0, 0.7)
            if score_decimals is not None:
                score = round(score, score_decimals)
            dets.append({"image_id": img["id"], "category_id": cat, "bbox": [float(v) for v in box],
                         "score": float(score)})
    gt = {"info": {"description": "synthetic"}, "images": images, "annotations": anns, "categories": cats}
    return gt, dets


def with_segmentations(gt, dets, seed=0, points=12, jitter=0.05):
    """Adds segmentations: polygons for ground truth (compressed-RLE crowds), compressed RLEs
    (from jittered polygons) for detections, whose boxes are dropped (segm results)."""
    import copy

    from cvkernels import mask as mask_utils

    rng = np.random.default_rng(seed)
    gt, dets = copy.deepcopy(gt), copy.deepcopy(dets)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}

    def polygon(b, jit):
        x, y, w, h = b
        t = np.linspace(0, 2 * np.pi, points, endpoint=False)
        r = 1 + rng.normal(0, jit, points)
        return [float(v) for v in np.ravel(np.stack([x + w / 2 * (1 + r * np.cos(t)), y + h / 2 * (1 + r * np.sin(t))], 1))]

    for a in gt["annotations"]:
        h, w = sizes[a["image_id"]]
        if a["iscrowd"]:
            rle = mask_utils.frPyObjects([polygon(a["bbox"], 0.0)], h, w)[0]
            a["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
        else:
            a["segmentation"] = [polygon(a["bbox"], 0.0)]
    for d in dets:
        h, w = sizes[d["image_id"]]
        rle = mask_utils.frPyObjects([polygon(d["bbox"], jitter)], h, w)[0]
        d["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
        del d["bbox"]
    return gt, dets


def synthetic_keypoints(n_images=50, persons_per_image=12, dets_per_image=20, seed=0, crowd_frac=0.03,
                        n_keypoints=17, with_bbox=False, n_cats=1):
    """A person-keypoints-like set: each person has a box and K (x, y, v) keypoints (v = 0 not
    labelled, 1 occluded, 2 visible; some persons have none labelled), about crowd_frac crowd
    regions; detections are jittered persons plus false positives, with keypoint results
    ({"keypoints", "score"}, and a "bbox" when with_bbox, as detectron2 writes them)."""
    rng = np.random.default_rng(seed)
    images = [{"id": int(i), "width": 640, "height": 480} for i in range(1, n_images + 1)]
    cats = [{"id": c, "name": "person" if c == 1 else f"class{c}", "supercategory": "person",
             "keypoints": [f"k{k}" for k in range(n_keypoints)]} for c in range(1, n_cats + 1)]
    anns, dets = [], []
    for img in images:
        persons = []
        for _ in range(rng.poisson(persons_per_image) if img["id"] % 9 != 4 else 0):
            w, h = float(np.exp(rng.uniform(np.log(8), np.log(300)))), float(np.exp(rng.uniform(np.log(16), np.log(400))))
            x, y = rng.uniform(0, 640 - min(w, 639)), rng.uniform(0, 480 - min(h, 479))
            kx, ky = x + rng.uniform(0, w, n_keypoints), y + rng.uniform(0, h, n_keypoints)
            v = rng.choice([0, 1, 2], n_keypoints, p=[0.3, 0.2, 0.5])
            if rng.uniform() < 0.1:
                v[:] = 0  # nothing labelled: ignored by the evaluation
            crowd = int(rng.uniform() < crowd_frac)
            if crowd:
                v[:] = 0
            kps = np.stack([np.where(v > 0, np.round(kx, 1), 0), np.where(v > 0, np.round(ky, 1), 0), v], 1)
            cat = int(rng.integers(1, n_cats + 1))
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": cat,
                         "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                         "area": float(w * h * rng.uniform(0.4, 0.9)), "iscrowd": crowd,
                         "keypoints": [float(t) if i % 3 < 2 else int(t) for i, t in enumerate(kps.ravel())],
                         "num_keypoints": int((v > 0).sum())})
            persons.append((x, y, w, h, kx, ky, cat))
        if img["id"] % 13 == 6:
            continue  # an image without detections
        for _ in range(rng.poisson(dets_per_image)):
            if persons and rng.uniform() < 0.6:
                x, y, w, h, kx, ky, cat = persons[rng.integers(len(persons))]
                s = rng.uniform(0.01, 0.15) * np.sqrt(w * h)
                dx, dy = kx + rng.normal(0, s, n_keypoints), ky + rng.normal(0, s, n_keypoints)
                score = rng.uniform(0.3, 1.0)
            else:
                w, h = rng.uniform(10, 300), rng.uniform(10, 400)
                x, y = rng.uniform(0, 600), rng.uniform(0, 440)
                dx, dy = x + rng.uniform(0, w, n_keypoints), y + rng.uniform(0, h, n_keypoints)
                cat = int(rng.integers(1, n_cats + 1))
                score = rng.uniform(0.0, 0.7)
            kp = np.stack([dx, dy, np.ones(n_keypoints)], 1).ravel()
            det = {"image_id": img["id"], "category_id": cat, "keypoints": [float(t) for t in kp],
                   "score": round(float(score), 3)}
            if with_bbox:
                det["bbox"] = [float(dx.min()), float(dy.min()), float(dx.max() - dx.min()), float(dy.max() - dy.min())]
            dets.append(det)
    gt = {"info": {"description": "synthetic keypoints"}, "images": images, "annotations": anns, "categories": cats}
    return gt, dets
