"""`cvkernels bench`: every implemented op timed beside each installed peer, side by side in
one process, on the same synthetic inputs and thread count; median of repeats.

A case is a Case(name, impls, ...) whose impls map a label ("cvkernels", "torchvision", ...)
to a zero-argument callable. Ratios are peer time / cvkernels time (> 1: we are faster).
Cases are built per area (bench/boxes.py, ...); benchmarks/ reuses the same cases for
pytest-benchmark.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

OURS = "cvkernels"


@dataclasses.dataclass
class Case:
    name: str
    impls: Dict[str, Callable[[], object]]
    out_bytes: int = 0  # bytes the op writes: reported as GB/s next to memcpy's
    note: str = ""
    in_bytes: int = 0  # bytes the op reads (for input-bound ops): GB/s next to memcpy's
    flops: int = 0  # floating-point operations: GFLOP/s next to torch.mm's


def time_call(fn: Callable[[], object], min_time: float = 0.25, min_reps: int = 5, max_reps: int = 200,
              first: Optional[float] = None) -> float:
    """Median seconds of fn() over repeats, after one warm-up call (or given the seconds of a
    warm-up already made, `first`). A call that takes seconds is repeated fewer times (at
    least 2; the warm-up counts when it takes over 10 s)."""
    if first is None:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
    if first > 10:
        return first
    if first > 1:
        min_reps = 2
    times: List[float] = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < min_time and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_impls(impls, rounds: int = 5, min_time: float = 0.25, max_reps: int = 200, on_error=None) -> dict:
    """Median seconds of each implementation of a case. Calls under a second are timed in
    rounds that visit every implementation in turn (a short burst each), so that a slow spell
    of a shared machine lands on all of them rather than on whichever ran during it; longer
    ones by time_call, after the same warm-up. A burst of calls under 0.1 s starts with an
    untimed call: the previous implementation's threads may still be spinning (OpenMP, rayon),
    and the first call after it would pay for them. An implementation that raises is reported to on_error(label,
    error) and left out (or re-raised when on_error is None)."""
    times, first = {}, {}
    for label, fn in impls.items():
        try:
            t0 = time.perf_counter()
            fn()  # warm-up
            first[label] = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001
            if on_error is None:
                raise
            on_error(label, e)
    quick = [label for label in first if first[label] <= 1]
    samples: Dict[str, List[float]] = {label: [] for label in quick}
    for _ in range(rounds):
        for label in quick:
            fn, mine = impls[label], samples[label]
            if first[label] < 0.1:
                fn()
            start, before = time.perf_counter(), len(mine)
            while len(mine) == before or (time.perf_counter() - start < min_time / rounds and len(mine) < max_reps):
                t0 = time.perf_counter()
                fn()
                mine.append(time.perf_counter() - t0)
    for label in first:
        times[label] = (statistics.median(samples[label]) if label in samples
                        else time_call(impls[label], first=first[label]))
    return times


def memcpy_bandwidth(nbytes: int = 64 << 20):
    """GB/s of a plain copy of nbytes, as bytes copied per second: into a buffer that already
    exists (pages mapped), and into a freshly allocated one (clone: pays the page faults that
    any op returning a new tensor also pays)."""
    import torch

    src = torch.rand(nbytes // 4)
    dst = torch.empty_like(src)
    dst.fill_(0)
    t_copy = time_call(lambda: dst.copy_(src))
    t_clone = time_call(lambda: src.clone())
    return nbytes / t_copy / 1e9, nbytes / t_clone / 1e9


def mm_gflops(n: int = 2048) -> float:
    """GFLOP/s of torch.mm on n x n float32 matrices (2 n^3 flops)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / time_call(lambda: torch.mm(a, b)) / 1e9


def _fmt_time(t: float) -> str:
    if t >= 1:
        return f"{t:.3f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.1f} us"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def all_cases(quick: bool = False, only: Optional[List[str]] = None) -> List[Case]:
    from . import (assignment, boxes, classification, coco, conv, decode, losses, lvis, masks, metrics, nms, panoptic,
                   pipelines, rle, roi)

    # Build an area's inputs only when one of its cases may be asked for (--only matches case
    # names; these are the words the names of each area's cases contain).
    words = {boxes: ("box", "rotated"), nms: ("nms",), roi: ("roi", "RoI"), coco: ("COCO", "coco", "keypoints", "coco-e2e"),
             masks: ("dice", "iou", "mask"), rle: ("RLE", "segm"), conv: ("conv", "ASPP", "dilated"),
             pipelines: ("pipeline",), metrics: ("metrics", "MeanAveragePrecision"),
             assignment: ("assignment", "hungarian", "matching"), losses: ("focal",), decode: ("heatmap", "peaks", "RetinaNet", "YOLO"),
             classification: ("classification",), panoptic: ("panoptic",), lvis: ("LVIS",)}
    cases = []
    for area in (boxes, nms, roi, masks, coco, rle, conv, metrics, pipelines, assignment, losses, decode, classification,
                 panoptic, lvis):
        if only and not any(w in o or o in w for o in only for w in words[area]):
            continue
        cases += area.cases(quick=quick)
    if only:
        cases = [c for c in cases if any(o in c.name for o in only)]
    return cases


def run(threads: Optional[int] = None, quick: bool = False, only: Optional[List[str]] = None, file=None) -> List[dict]:
    file = file or sys.stdout
    try:
        import torch
    except ImportError:
        print("cvkernels bench needs torch (pip install torch): it times cvkernels beside torch and its peers.", file=file)
        return []
    import cvkernels

    if threads is None:
        threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    cvkernels.set_num_threads(threads)
    peers = []
    for mod in ("torchvision",):
        try:
            m = __import__(mod)
            peers.append(f"{mod} {m.__version__}")
        except Exception:  # noqa: BLE001
            peers.append(f"{mod}: not installed")
    print(f"cvkernels {cvkernels.__version__} bench | torch {torch.__version__} | {', '.join(peers)}", file=file)
    print(f"threads={threads} (cvkernels and torch; cvkernels on: {cvkernels._C.threads_backend()}) | SIMD: {cvkernels._C.simd_level()} | {_cpu_name()} | "
          f"{os.cpu_count()} CPUs", file=file)
    copy_gbs, clone_gbs = memcpy_bandwidth()
    print(f"memcpy 64 MiB: {copy_gbs:.1f} GB/s into an existing buffer, {clone_gbs:.1f} GB/s into a new one (clone)",
          file=file)
    print("ratio = peer time / cvkernels time (higher is better for cvkernels); median of repeats, taken in rounds\n"
          "that alternate the implementations\n", file=file)
    header = f"{'case':<44} {'implementation':<28} {'median':>10} {'ratio':>8} {'GB/s out':>9}"
    print(header, file=file)
    print("-" * len(header), file=file)
    rows = []
    mm_rate = None
    cases = all_cases(quick=quick, only=only)
    # The cases' inputs (COCO datasets of millions of Python objects among them) are moved out
    # of the garbage collector's reach, so that a collection triggered inside a timed call does
    # not scan them all (in a process holding them, box_iou 4096 measured 73 ms without this and
    # 4.6 ms with it; the full run still shows a slow first case, see the README).
    gc.collect()
    gc.freeze()
    for case in cases:
        def failed(label, e, case=case):  # a peer that cannot run this input
            if label == OURS:
                raise e
            print(f"{case.name:<44} {label:<28} failed: {type(e).__name__}: {str(e)[:60]}", file=file)

        times = time_impls(case.impls, on_error=failed)
        ours = times.get(OURS)
        for label, t in times.items():
            ratio = "" if ours is None or label == OURS else f"{t / ours:.1f}x"
            gbs = f"{case.out_bytes / t / 1e9:.1f}" if case.out_bytes else ""
            print(f"{case.name:<44} {label:<28} {_fmt_time(t):>10} {ratio:>8} {gbs:>9}", file=file)
            rows.append(dict(case=case.name, impl=label, seconds=t, ratio=(t / ours if ours and label != OURS else None)))
        if case.out_bytes and ours:
            print(f"{'':<44} {'output vs memcpy (old/new buf)':<28} {'':>10} {'':>8} "
                  f"{case.out_bytes / ours / 1e9 / copy_gbs:.2f}/{case.out_bytes / ours / 1e9 / clone_gbs:.2f}",
                  file=file)
        if case.in_bytes and ours:
            print(f"{'':<44} {'input read GB/s (vs memcpy)':<28} {'':>10} {'':>8} "
                  f"{case.in_bytes / ours / 1e9:.1f} ({case.in_bytes / ours / 1e9 / copy_gbs:.2f})", file=file)
        if case.flops and ours:
            if mm_rate is None:
                mm_rate = mm_gflops()
            rates = ", ".join(f"{label} {case.flops / t / 1e9:.0f}" for label, t in times.items())
            print(f"{'':<44} GFLOP/s: {rates} (torch.mm 2048^2: {mm_rate:.0f}; cvkernels at "
                  f"{case.flops / ours / 1e9 / mm_rate:.2f} of it)", file=file)
        if case.note:
            print(f"{'':<44} note: {case.note}", file=file)
        file.flush()
    gc.unfreeze()
    return rows
