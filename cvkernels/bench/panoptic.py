"""Benchmark cases of panoptic quality on synthetic COCO-panoptic-like pairs (500 image pairs of
640x480, 80 thing and 53 stuff categories; 100 distinct pairs, each used five times):

* in memory: cvkernels.panoptic.panoptic_quality on the id maps beside panopticapi's
  single-process loop (pq_compute_single_core + pq_average) fed the same maps (its PNG reads
  replaced by the decoded arrays, so that both time the evaluation alone);
* from files: cvkernels.panoptic.pq_compute beside panopticapi's pq_compute (one process per
  CPU) on the same JSON files and PNG folders.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile

from . import OURS, Case
from .panoptic_data import synthetic_panoptic, write_panoptic


def _panopticapi_in_memory(ev, pairs, cats):
    """panopticapi's loop on in-memory maps: its Image.open returns the colours we hand it."""
    from ..panoptic import id2rgb

    colours = {}
    gt_anns, pred_anns = [], []
    for i, (g, gi, p, pi) in enumerate(pairs):
        colours[f"gt/{i}.png"] = id2rgb(g)
        colours[f"pred/{i}.png"] = id2rgb(p)
        gt_anns.append({"image_id": i, "file_name": f"{i}.png", "segments_info": [dict(s) for s in gi]})
        pred_anns.append({"image_id": i, "file_name": f"{i}.png", "segments_info": [dict(s) for s in pi]})
    categories = {c["id"]: c for c in cats}

    class _Image:
        @staticmethod
        def open(path):
            return colours[os.path.relpath(path, "/mem")]

    def run():
        real = ev.Image
        ev.Image = _Image
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                stat = ev.pq_compute_single_core(0, list(zip(gt_anns, pred_anns)), "/mem/gt", "/mem/pred", categories)
            return [stat.pq_average(categories, isthing=t)[0] for t in (None, True, False)]
        finally:
            ev.Image = real

    return run


def cases(quick: bool = False):
    from .. import panoptic as P

    n, H, W = (20, 120, 160) if quick else (500, 480, 640)
    pairs, cats = synthetic_panoptic(n, H, W, seed=0, distinct=min(n, 100))
    impls = {OURS: lambda: P.panoptic_quality(pairs, cats)}
    try:
        from panopticapi import evaluation as ev

        impls["panopticapi (one process)"] = _panopticapi_in_memory(ev, pairs, cats)
    except ImportError:
        ev = None
    out = [Case(f"panoptic quality {n} pairs {W}x{H} in memory", impls, in_bytes=n * H * W * 8,
                note="int32 id maps, 80 things + 53 stuff")]
    try:
        import PIL  # noqa: F401
    except ImportError:
        return out
    folder = tempfile.mkdtemp(prefix="cvk-panoptic-")
    atexit.register(shutil.rmtree, folder, True)
    gj, pj = write_panoptic(folder, pairs, cats)
    impls = {OURS: lambda: P.pq_compute(gj, pj, verbose=False)}
    if ev is not None:
        def peer():
            with contextlib.redirect_stdout(io.StringIO()):
                return ev.pq_compute(gj, pj)

        impls["panopticapi pq_compute"] = peer
    out.append(Case(f"panoptic pq_compute {n} pairs {W}x{H} from PNG files", impls,
                    note=f"PNG decoding included; panopticapi uses {os.cpu_count()} processes"))
    return out
