"""COCO evaluation of results held as a list of dicts, each evaluator alone in a process of its
own (no other evaluator's threads on the cores: OpenMP and rayon workers spin for a while after
each call), the processes alternating round after round: what a user of one evaluator gets.
The data are `cvkernels bench`'s coco-e2e sets: segm, 300 images with compressed-RLE results;
bbox, 5,000 images. Each timed call is loadRes(copy of the list) + evaluate + accumulate +
summarize, the shallow copy of the list included for every evaluator alike (pycocotools-style
evaluators add keys to the dicts); the ground truth is loaded once per process.

    python benchmarks/coco_alone.py [segm|bbox] [rounds] [calls per process] [threads]

Prints each evaluator's median over rounds of its per-process median, and its ratio to
cvkernels' time.
"""

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

NAMES = ("cvkernels", "hotcoco", "ultrafast-pycocotools", "faster-coco-eval")


def _data(iou_type):
    from cvkernels.bench.coco_data import synthetic_coco, with_segmentations

    if iou_type == "segm":
        return with_segmentations(*synthetic_coco(300, 80, seed=1, gt_per_image=7.2, dets_per_image=42))
    return synthetic_coco(5000, 80, seed=0)


def child(iou_type, name, calls, threads):
    """One evaluator's median seconds over `calls` timed calls (after two untimed ones)."""
    import cvkernels
    from cvkernels.bench.coco import _peers
    from cvkernels.coco import COCO, COCOeval

    cvkernels.set_num_threads(threads)
    found = {"cvkernels": (COCO, COCOeval)}
    found.update({label: (C, E) for label, C, E in _peers()})
    if name not in found:
        return None
    C, E = found[name]
    gt, dets = _data(iou_type)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(gt, f)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            g = C(f.name)
            times = []
            for k in range(calls + 2):
                t = time.perf_counter()
                e = E(g, g.loadRes([dict(d) for d in dets]), iou_type)
                e.evaluate()
                e.accumulate()
                e.summarize()
                if k >= 2:
                    times.append(time.perf_counter() - t)
    finally:
        os.unlink(f.name)
    return statistics.median(times)


def main(iou_type="segm", rounds=3, calls=20, threads=2):
    medians = {}
    for _ in range(rounds):
        for name in NAMES:
            out = subprocess.run([sys.executable, __file__, "--child", iou_type, name, str(calls), str(threads)],
                                 capture_output=True, text=True, check=True).stdout.split()
            if out and out[-1] != "None":
                medians.setdefault(name, []).append(float(out[-1]))
    print(f"{iou_type} from a list of dicts, each evaluator alone, {rounds} rounds x {calls} calls, {threads} threads")
    ours = statistics.median(medians["cvkernels"])
    for name, ts in medians.items():
        t = statistics.median(ts)
        print(f"{name:24s} {t * 1000:9.1f} ms   {t / ours:6.2f}x cvkernels' time   (rounds: "
              + ", ".join(f"{x * 1000:.1f}" for x in ts) + ")")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    else:
        args = sys.argv[1:]
        main(args[0] if args else "segm", *(int(a) for a in args[1:4]))
