"""Benchmark case of LVIS evaluation: bbox on a synthetic LVIS-like set (5,000 images, 1,203
categories, 300 detections per image, some images over the limit), from the JSON files to the
results, cvkernels.lvis beside lvis-api (the `lvis` package)."""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
import os
import shutil
import tempfile

from . import OURS, Case
from .lvis_data import synthetic_lvis


def cases(quick: bool = False):
    import numpy as np

    from .. import lvis as CL

    n = 200 if quick else 5000
    gt, dets = synthetic_lvis(n, n_cats=1203, dets_per_image=300, seed=0)
    folder = tempfile.mkdtemp(prefix="cvk-lvis-")
    atexit.register(shutil.rmtree, folder, True)
    gp, dp = os.path.join(folder, "gt.json"), os.path.join(folder, "dets.json")
    with open(gp, "w") as f:
        json.dump(gt, f)
    with open(dp, "w") as f:
        json.dump(dets, f)
    n_dets = len(dets)
    del gt, dets

    def ours():
        e = CL.LVISEval(gp, dp, "bbox")
        e.run()
        return e.results

    impls = {OURS: ours}
    try:
        import lvis as lv

        def peer():
            if not hasattr(np, "float"):
                np.float = float  # lvis-api 0.5.3 still uses np.float (gone since numpy 1.24)
            logging.getLogger("lvis").setLevel(logging.ERROR)
            with contextlib.redirect_stdout(io.StringIO()):
                e = lv.LVISEval(gp, dp, "bbox")
                e.run()
            return e.results

        impls["lvis-api"] = peer
    except ImportError:
        pass
    return [Case(f"LVIS bbox eval {n:,} images 1,203 categories {n_dets:,} dets", impls,
                 note="from the JSON files to the results")]
