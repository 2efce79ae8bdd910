"""COCO evaluation sharded by image: each process matches the detections of its own images
(`COCOeval.evaluate`), only the per-detection match records travel, and one process accumulates
them. The numbers equal one process evaluating every image (precision, recall, scores, stats).

A match record is what accumulate needs of one kept detection: its score, category, image,
rank by score in its image, and whether it matched (or is ignored) at each IoU threshold in
each area range; plus, per category and area range, the count of ground truth that is not
ignored. About 60 bytes per detection with COCO's 10 thresholds and 4 area ranges.

With torchrun (`torchrun --nproc-per-node 4 evaluate.py`), every process holding the ground
truth and the results of its images::

    import torch.distributed as dist
    from cvkernels.coco import COCO, evaluate_sharded

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    gt = COCO("instances_val2017.json")
    mine = sorted(gt.getImgIds())[rank::world]        # disjoint: every image in one shard
    dt = gt.loadRes(results_of(mine))                 # this process's detections
    E = evaluate_sharded(gt, dt, "bbox", imgIds=mine)  # prints the summary on rank 0
    if rank == 0:
        print(E.stats)                                # the merged COCOeval; None elsewhere

Without torch.distributed, `COCOeval.match_records()` and `merge_match_records(list)` do the same
by hand (the records pickle).
"""

from __future__ import annotations

import numpy as np

from .. import _C
from .params import copy_params

# The parameters every shard must share (imgIds differ: they are the shards).
_SHARED = ("iouType", "catIds", "useCats", "iouThrs", "recThrs", "maxDets", "areaRng", "areaRngLbl")


class MatchRecords:
    """One evaluation's outcome as per-detection match records (picklable numpy arrays).

    Attributes: params (the evaluation's Params; params.imgIds the images it covered), and per
    record ``cat`` (position in params.catIds; 0 when useCats is 0), ``image`` (position in
    params.imgIds), ``rank`` (by score inside its category and image), ``score``, ``state``
    ((n, areas, thresholds) uint8: 1 matched, 2 ignored), and ``npig`` ((categories, areas):
    ground truth not ignored)."""

    __slots__ = ("params", "cat", "image", "rank", "score", "state", "npig")

    def __init__(self, params, cat, image, rank, score, state, npig):
        self.params = params
        self.cat, self.image, self.rank, self.score, self.state, self.npig = cat, image, rank, score, state, npig

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k in self.__slots__:
            setattr(self, k, state[k])

    def __len__(self):
        return len(self.score)


def merge_match_records(records, summarize=False):
    """A COCOeval accumulated from the match records of disjoint shards of images (each from
    `COCOeval.match_records()` after `evaluate()` with the same parameters): eval['precision'],
    ['recall'], ['scores'] and, with summarize=True, stats equal to one evaluation of all their
    images. Raises ValueError when the shards' parameters differ or an image is in two shards."""
    from .evaluator import COCOeval

    records = list(records)
    if not records:
        raise ValueError("merge_match_records needs the records of at least one shard")
    for i, r in enumerate(records):
        if not isinstance(r, MatchRecords):
            raise TypeError(f"records[{i}] is a {type(r).__name__}, not MatchRecords (from COCOeval.match_records())")
    p0 = records[0].params
    for i, r in enumerate(records[1:], 1):
        for name in _SHARED:
            a, b = getattr(p0, name), getattr(r.params, name)
            if not np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)):
                raise ValueError(f"records[{i}] was evaluated with another params.{name} than records[0]")
    ids = [np.asarray(r.params.imgIds) for r in records]
    nonempty = [i for i in ids if len(i)]  # an empty shard's ids are floats (np.unique([]))
    every = np.concatenate(nonempty) if nonempty else np.zeros(0, np.int64)
    try:
        images, counts = np.unique(every, return_counts=True)
    except TypeError:
        raise ValueError("image ids must be all integers or all strings") from None
    if (counts > 1).any():
        raise ValueError(f"the shards overlap: image_id {images[counts > 1][0]!r} was evaluated in two of them "
                         "(give each image to one shard)")
    # Ties between equal scores go by image order: each shard's image positions become
    # positions in the sorted union, which is the order one evaluation of them all uses.
    image = np.concatenate([np.searchsorted(images, i)[r.image] if len(r) else np.zeros(0, np.int64)
                            for i, r in zip(ids, records)]).astype(np.int64)
    cat = np.concatenate([r.cat for r in records]).astype(np.int64)
    rank = np.concatenate([r.rank for r in records]).astype(np.int64)
    score = np.concatenate([r.score for r in records]).astype(np.float64)
    T, A = len(p0.iouThrs), len(p0.areaRng)
    state = np.concatenate([np.asarray(r.state, np.uint8).reshape(-1, A, T) for r in records])
    npig = np.sum([r.npig for r in records], axis=0).astype(np.int64)
    K = npig.shape[0]
    precision, recall, scores = _C.accumulate_records(
        cat, image, rank, score, state, npig, K, [float(v) for v in p0.recThrs], [int(m) for m in p0.maxDets])
    E = COCOeval(iouType=p0.iouType)
    E.params = copy_params(p0)
    E.params.imgIds = images.tolist()
    if not E.params.useCats:
        E.params.catIds = [-1]
    E._paramsEval = copy_params(E.params)
    E._set_eval(E.params, precision, recall, scores)
    if summarize:
        E.summarize()
    return E


def evaluate_sharded(cocoGt, cocoDt, iouType, imgIds=None, *, params=None, group=None, dst=0, summarize=True):
    """Evaluate this process's images, send their match records to process `dst`
    (torch.distributed's gather_object on `group`, the default group when None), which merges
    and accumulates them: the merged COCOeval (summarized, printing pycocotools' lines, unless
    summarize=False) on `dst`, None on the other processes. Every process must call it.

    Args:
        cocoGt, cocoDt: this process's COCO objects (the ground truth and results of its images
            at least).
        iouType: "bbox", "segm" or "keypoints".
        imgIds: the images this process evaluates; the shards must be disjoint and together
            cover the images to evaluate. None: every image of cocoGt (one process).
        params: a Params whose settings (maxDets, areaRng, iouThrs, ...) replace the defaults;
            its imgIds are ignored.
    Without torch.distributed initialised (or with one process) it evaluates alone."""
    from .evaluator import COCOeval

    E = COCOeval(cocoGt, cocoDt, iouType)
    if params is not None:
        for name, value in vars(copy_params(params)).items():
            if name != "imgIds":
                setattr(E.params, name, value)
    if imgIds is not None:
        E.params.imgIds = sorted(imgIds)
    E.evaluate()
    mine = E.match_records()
    dist = _distributed()
    if dist is None or dist.get_world_size(group) == 1:
        return merge_match_records([mine], summarize=summarize)
    world = dist.get_world_size(group)
    gathered = [None] * world if dist.get_rank() == dst else None
    dist.gather_object(mine, gathered, dst=dst, group=group)
    if dist.get_rank() != dst:
        return None
    return merge_match_records(gathered, summarize=summarize)


def _distributed():
    """torch.distributed when torch is importable and a process group is initialised."""
    try:
        import torch.distributed as dist
    except ImportError:
        return None
    return dist if dist.is_available() and dist.is_initialized() else None
