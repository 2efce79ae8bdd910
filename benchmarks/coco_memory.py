"""Peak memory of COCO evaluation, each evaluator in its own process (VmHWM), on the
synthetic val2017-like set of `cvkernels bench`:

    python benchmarks/coco_memory.py [n_images]
"""

import json
import os
import subprocess
import sys
import tempfile

RUN = r"""
import contextlib, io, sys

def hwm():  # peak resident set of this process, KiB (VmHWM restarts at exec, ru_maxrss does not)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

name, gt, dt = sys.argv[1:4]
if name == "cvkernels":
    from cvkernels.coco import COCO, COCOeval
elif name == "pycocotools":
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
elif name == "faster-coco-eval":
    from faster_coco_eval import COCO, COCOeval_faster as COCOeval
elif name == "hotcoco":
    from hotcoco import COCO, COCOeval
elif name == "ultrafast-pycocotools":
    from ultrafast_pycocotools import COCO, COCOeval
imported = hwm()
with contextlib.redirect_stdout(io.StringIO()):
    g = COCO(gt)
    e = COCOeval(g, g.loadRes(dt), "bbox")
    e.evaluate(); e.accumulate(); e.summarize()
peak = hwm()
print(imported, peak)
"""


def main():
    from cvkernels.bench.coco_data import synthetic_coco

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    gt, dets = synthetic_coco(n, 80, seed=0)
    tmp = tempfile.mkdtemp()
    g, d = os.path.join(tmp, "gt.json"), os.path.join(tmp, "dt.json")
    json.dump(gt, open(g, "w"))
    json.dump(dets, open(d, "w"))
    print(f"{n} images, {len(gt['annotations'])} gt, {len(dets)} dets; peak RSS in MiB (after imports -> after evaluation)")
    for name in ("cvkernels", "pycocotools", "faster-coco-eval", "hotcoco", "ultrafast-pycocotools"):
        res = subprocess.run([sys.executable, "-c", RUN, name, g, d], capture_output=True, text=True, cwd=tmp)
        if res.returncode != 0:
            print(f"{name:<24} not available ({res.stderr.strip().splitlines()[-1] if res.stderr else 'failed'})")
            continue
        imported, peak = (int(v) / 1024 for v in res.stdout.split())
        print(f"{name:<24} {imported:8.0f} -> {peak:8.0f}   (+{peak - imported:.0f})")


if __name__ == "__main__":
    main()
