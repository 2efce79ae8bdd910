"""COCO bbox evaluation of results held in memory as a list of dicts (what a validation loop
has), each installed evaluator in one process, same data and threads: the ground truth is
loaded once from JSON; each timed call is loadRes(list) + evaluate + accumulate + summarize on a
fresh copy of the list (pycocotools-style evaluators add keys to the dicts); and cvkernels with
the same results as columns (a dict of arrays). Median of repeats.

    python benchmarks/coco_from_list.py [n_images] [threads]
"""

import contextlib
import copy
import io
import json
import statistics
import sys
import tempfile
import time


def evaluators():
    from cvkernels.coco import COCO, COCOeval

    out = [("cvkernels", COCO, COCOeval)]
    for name, mod, ev in (("pycocotools", "pycocotools.coco", None), ("hotcoco", "hotcoco", "COCOeval"),
                          ("ultrafast-pycocotools", "ultrafast_pycocotools", "COCOeval"),
                          ("faster-coco-eval", "faster_coco_eval", "COCOeval_faster")):
        try:
            m = __import__(mod, fromlist=["COCO"])
            if name == "pycocotools":
                from pycocotools.cocoeval import COCOeval as E
            else:
                E = getattr(m, ev)
            out.append((name, m.COCO, E))
        except Exception:  # noqa: BLE001  (not installed)
            continue
    return out


def _median_time(C, E, gt_path, results, repeats):
    """Median seconds of loadRes(results()) + evaluate + accumulate + summarize; results() is
    made outside the timing (a fresh copy where the evaluator adds keys to the dicts)."""
    with contextlib.redirect_stdout(io.StringIO()):
        g = C(gt_path)
        runs = []
        for _ in range(repeats):
            r = results()
            t = time.perf_counter()
            e = E(g, g.loadRes(r), "bbox")
            e.evaluate()
            e.accumulate()
            e.summarize()
            runs.append(time.perf_counter() - t)
            # freed here, outside the timing, for every evaluator alike: else an evaluator that
            # keeps the results (as pycocotools' loadRes does) frees the last run's 194k dicts
            # inside the next timed call, and one that does not frees them at `r = results()`
            del e, r
    return statistics.median(runs)


def main(n_images=5000, threads=2):
    import cvkernels
    from cvkernels.bench.coco_data import synthetic_coco

    cvkernels.set_num_threads(threads)
    gt, dets = synthetic_coco(n_images, 80, seed=0)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(gt, f)
    print(f"{n_images} images, {len(gt['annotations'])} ground truth, {len(dets)} results as a list of dicts, "
          f"{threads} threads")
    import numpy as np

    from cvkernels.coco import COCO, COCOeval

    # repeats: 7 for the evaluators that take well under a second (their medians move with the
    # machine's noise), fewer for the slow ones
    repeats = {"pycocotools": 1, "faster-coco-eval": 3}
    times = {name: _median_time(C, E, f.name, lambda: copy.deepcopy(dets), repeats.get(name, 7))
             for name, C, E in evaluators()}
    # cvkernels only: the same results as columns (a dict of arrays), no dicts at all
    cols = {"image_id": np.array([d["image_id"] for d in dets]), "category_id": np.array([d["category_id"] for d in dets]),
            "bbox": np.array([d["bbox"] for d in dets]), "score": np.array([d["score"] for d in dets])}
    times["cvkernels, results as columns"] = _median_time(COCO, COCOeval, f.name, lambda: cols, 7)
    for name, t in times.items():
        print(f"{name:24s} {t * 1000:9.1f} ms   {t / times['cvkernels']:6.2f}x cvkernels' time")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
