"""COCO bbox evaluation at Objects365 scale (default 50,000 images, 365 classes, about 2 million
detections), end to end from JSON files: COCO(gt) + loadRes(results file) + evaluate +
accumulate + summarize, each evaluator in its own child process (wall time and peak resident
memory, VmHWM). pycocotools runs on a tenth of the images; its time x10 is the estimate.
Then cvkernels sharded by image over 2 processes (torch.distributed, gloo; each process one
thread, its half of the images and its own results file; evaluate_sharded) beside 1 process with
the same total thread count; the stats of the two are compared.

    python benchmarks/coco_scale.py [n_images] [threads] [repeats]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import contextlib, io, json, os, sys, time
def peak_mib():  # VmHWM: this program's peak (ru_maxrss would keep the forking parent's across exec)
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024
name, gt_path, dt_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if name == "cvkernels":
    import cvkernels
    from cvkernels.coco import COCO, COCOeval
    cvkernels.set_num_threads(threads)
elif name == "pycocotools":
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
elif name == "faster-coco-eval":
    from faster_coco_eval import COCO, COCOeval_faster as COCOeval
elif name == "hotcoco":
    from hotcoco import COCO, COCOeval
t = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    g = COCO(gt_path)
    e = COCOeval(g, g.loadRes(dt_path), "bbox")
    e.evaluate(); e.accumulate(); e.summarize()
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mib": peak_mib(),
                  "stats": [float(v) for v in e.stats]}))
"""

_SHARDED = r"""
import contextlib, io, json, os, sys, time
import torch, torch.distributed as dist

def peak_mib():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024

def main(rank, world, port, gt_path, dt_paths, shards, out):
    import cvkernels
    from cvkernels.coco import COCO, evaluate_sharded
    cvkernels.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    dist.barrier()
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(gt_path)
        e = evaluate_sharded(g, g.loadRes(dt_paths[rank]), "bbox", imgIds=json.load(open(shards))[rank])
    wall = time.perf_counter() - t
    rss = [None] * world
    dist.all_gather_object(rss, peak_mib())
    if rank == 0:
        json.dump({"wall": wall, "rss_mib": sum(rss), "stats": [float(v) for v in e.stats]}, open(out, "w"))
    dist.destroy_process_group()

if __name__ == "__main__":
    port, gt_path, dt_paths, shards, out = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
    torch.multiprocessing.spawn(main, args=(len(dt_paths), port, gt_path, dt_paths, shards, out), nprocs=len(dt_paths))
"""


def _installed(name):
    mod = {"cvkernels": "cvkernels", "pycocotools": "pycocotools", "faster-coco-eval": "faster_coco_eval",
           "hotcoco": "hotcoco"}.get(name, name)
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def _child(name, gt, dt, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads))
    res = subprocess.run([sys.executable, "-c", _CHILD, name, gt, dt, str(threads)], capture_output=True, text=True,
                         env=env)
    if res.returncode:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _write_sets(tmp, n_images, n_cats, seed=0):
    """gt.json, dt.json (all), a tenth (gt10, dt10) and the 2 shards' result files."""
    from cvkernels.bench.coco_data import synthetic_coco

    gt, dets = synthetic_coco(n_images, n_cats, seed=seed, dets_per_image=42)
    paths = {k: os.path.join(tmp, k + ".json") for k in ("gt", "dt", "gt10", "dt10", "dt_0", "dt_1", "shards")}
    json.dump(gt, open(paths["gt"], "w"))
    json.dump(dets, open(paths["dt"], "w"))
    tenth = {im["id"] for im in gt["images"][: n_images // 10]}
    json.dump(dict(gt, images=[im for im in gt["images"] if im["id"] in tenth],
                   annotations=[a for a in gt["annotations"] if a["image_id"] in tenth]), open(paths["gt10"], "w"))
    json.dump([d for d in dets if d["image_id"] in tenth], open(paths["dt10"], "w"))
    ids = sorted(im["id"] for im in gt["images"])
    shards = [ids[0::2], ids[1::2]]
    for r, shard in enumerate(shards):
        mine = set(shard)
        json.dump([d for d in dets if d["image_id"] in mine], open(paths[f"dt_{r}"], "w"))
    json.dump(shards, open(paths["shards"], "w"))
    return paths, len(gt["annotations"]), len(dets)


def main(n_images=50000, threads=2, repeats=1):
    import socket
    import statistics

    tmp = tempfile.mkdtemp(prefix="cvk-scale-")
    t = time.perf_counter()
    paths, n_gt, n_dt = _write_sets(tmp, n_images, 365)
    print(f"{n_images} images, 365 classes, {n_gt} ground truth, {n_dt} detections "
          f"(files written in {time.perf_counter() - t:.0f} s); {threads} threads")
    rows = {}
    for name in ("cvkernels", "faster-coco-eval", "hotcoco", "pycocotools"):
        if not _installed(name):
            continue
        gt, dt, scale = (paths["gt10"], paths["dt10"], 10) if name == "pycocotools" else (paths["gt"], paths["dt"], 1)
        runs = [_child(name, gt, dt, threads) for _ in range(repeats)]
        if any("error" in r for r in runs):
            rows[name] = runs[0]
            continue
        rows[name] = {"wall": statistics.median(r["wall"] for r in runs) * scale,
                      "rss_mib": max(r["rss_mib"] for r in runs), "stats": runs[0]["stats"], "scale": scale}
    if _installed("torch"):
        runs = []
        for _ in range(repeats):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            out = os.path.join(tmp, "sharded.json")
            script = os.path.join(tmp, "sharded.py")
            open(script, "w").write(_SHARDED)
            res = subprocess.run([sys.executable, script, str(port), paths["gt"],
                                  json.dumps([paths["dt_0"], paths["dt_1"]]), paths["shards"], out],
                                 capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
            if res.returncode:
                print("sharded run failed:", res.stderr[-2000:])
                break
            runs.append(json.load(open(out)))
        if runs:
            rows["cvkernels, 2 processes x 1 thread (sharded)"] = {
                "wall": statistics.median(r["wall"] for r in runs), "rss_mib": runs[0]["rss_mib"],
                "stats": runs[0]["stats"], "scale": 1}
    base = rows["cvkernels"]["wall"]
    for name, r in rows.items():
        if "error" in r:
            print(f"{name:45s} failed: {r['error']}")
            continue
        est = " (estimate: a tenth x10)" if r.get("scale", 1) != 1 else ""
        diff = max(abs(a - b) for a, b in zip(r["stats"], rows["cvkernels"]["stats"]))
        same = "" if r.get("scale", 1) != 1 else ("  stats = cvkernels'" if diff == 0 else
                                                  f"  stats differ from cvkernels' by up to {diff:.1e}")
        print(f"{name:45s} {r['wall']:8.2f} s  {r['wall'] / base:7.2f}x cvkernels' time  peak {r['rss_mib']:7.0f} MiB"
              f"{est}{same}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
