"""COCO RLE masks with pycocotools.mask's interface and formats: encode, decode, area, toBbox,
merge, iou, frPyObjects. Compressed `counts` are byte-identical to pycocotools'; values,
dtypes and shapes are the same. Plus to_rle / from_rle for (N, H, W) numpy or torch masks.

An RLE is {"size": [h, w], "counts": bytes} (compressed) or with "counts" a list of run
lengths (uncompressed; frPyObjects converts it). Malformed strings and polygons with fewer
than three points raise ValueError (pycocotools may read out of bounds).
"""

from __future__ import annotations

import numpy as np

from . import _C, _threads
from ._frontend import is_tensor, torch_module

__all__ = ["encode", "decode", "area", "toBbox", "merge", "iou", "frPyObjects", "to_rle", "from_rle"]


def _obj(rle, i=0):
    try:
        h, w = rle["size"]
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"RLE {i} must be a dict with 'size' [h, w] and 'counts'") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < 2**31 for v in (h, w)):
        raise ValueError(f"RLE {i}: 'size' must be [h, w] integers in [0, 2^31), got {rle['size']!r}")
    if isinstance(counts, str):
        try:
            counts = counts.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"RLE {i}: compressed 'counts' must be ASCII") from None
    if not isinstance(counts, (bytes, bytearray)):
        raise ValueError(f"RLE {i}: compressed 'counts' must be bytes or str (use frPyObjects for run lists)")
    return int(h), int(w), bytes(counts)


def _objs(rles):
    return [_obj(r, i) for i, r in enumerate(rles)]


def _dict(obj):
    h, w, counts = obj
    return {"size": [h, w], "counts": counts}


def encode(bimask):
    """(h, w, n) uint8 masks (column-major, as pycocotools wants; any layout is accepted) ->
    list of RLEs; an (h, w) mask -> one RLE."""
    m = np.asarray(bimask)
    single = m.ndim == 2
    if single:
        m = m[:, :, None]
    if m.ndim != 3:
        raise ValueError(f"bimask must have shape (h, w, n) or (h, w), got {m.shape}")
    if m.dtype != np.uint8:
        m = (m != 0).view(np.uint8) if m.dtype != np.bool_ else m.view(np.uint8)  # nonzero is foreground
    m = np.asfortranarray(m)
    _threads.sync()
    out = [_dict(o) for o in _C.rle_encode(m.T)]  # (n, w, h): the Fortran memory, C-contiguous
    return out[0] if single else out


def decode(rleObjs):
    """RLEs -> (h, w, n) uint8 Fortran array; one RLE -> (h, w)."""
    single = isinstance(rleObjs, dict)
    objs = _objs([rleObjs] if single else rleObjs)
    if not objs:
        return np.zeros((0, 0, 0), dtype=np.uint8, order="F")
    h, w = objs[0][:2]
    if any(o[0] != h or o[1] != w for o in objs):
        raise ValueError("all RLEs to decode must have the same size")
    out = np.empty((h, w, len(objs)), dtype=np.uint8, order="F")
    _threads.sync()
    _C.rle_decode(objs, out.T)
    return out[:, :, 0] if single else out


def area(rleObjs):
    """Foreground pixel count: uint32 array for a list, a scalar for one RLE."""
    if isinstance(rleObjs, dict):
        return _C.rle_area(_objs([rleObjs]))[0]
    return _C.rle_area(_objs(rleObjs))


def toBbox(rleObjs):
    """Bounding boxes [x, y, w, h]: (n, 4) float64 for a list, (4,) for one RLE."""
    if isinstance(rleObjs, dict):
        return _C.rle_to_bbox(_objs([rleObjs]))[0]
    return _C.rle_to_bbox(_objs(rleObjs))


def merge(rleObjs, intersect=False):
    """Union (or intersection) of RLEs of one size -> one RLE."""
    return _dict(_C.rle_merge(_objs(rleObjs), bool(intersect)))


def _is_boxes(objs):
    if isinstance(objs, np.ndarray):
        return True
    return all(isinstance(o, (list, np.ndarray)) and len(o) == 4 for o in objs)


def _boxes(objs):
    b = np.asarray(objs, dtype=np.float64)
    if b.ndim == 1:
        b = b.reshape(1, -1)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4), got {b.shape}")
    return b


def iou(dt, gt, pyiscrowd):
    """IoU of every (dt, gt) pair: both RLE lists, or both boxes ((N, 4) [x, y, w, h] arrays or
    lists). A crowd ground truth divides by the detection's area. (m, n) float64, or [] when
    either side is empty (as pycocotools)."""
    if len(dt) == 0 or len(gt) == 0:
        return []
    crowd = [int(c) for c in pyiscrowd]
    if _is_boxes(dt) and _is_boxes(gt):
        d, g = _boxes(dt), _boxes(gt)
        if crowd and len(crowd) != len(g):
            raise ValueError("pyiscrowd must have one entry per ground truth")
        return _C.bbox_iou_xywh(d, g, np.asarray(crowd or [0] * len(g), dtype=np.uint8))
    if _is_boxes(dt) or _is_boxes(gt):
        raise ValueError("dt and gt must both be RLEs or both be boxes")
    _threads.sync()
    return _C.rle_iou(_objs(dt), _objs(gt), crowd)


def frPyObjects(pyobj, h, w):
    """Polygons (a list of [x1, y1, x2, y2, ...]), boxes ((N, 4) array or list of 4-lists),
    or uncompressed RLEs ({"size", "counts": [runs]}) -> compressed RLEs, as pycocotools."""
    if not all(isinstance(v, (int, np.integer, float, np.floating)) and not isinstance(v, bool) and float(v).is_integer()
               for v in (h, w)):
        raise ValueError(f"h and w must be integers, got {h!r} and {w!r}")
    h, w = int(h), int(w)
    if isinstance(pyobj, np.ndarray):
        return [_dict(o) for o in _C.rle_from_bboxes(_boxes(pyobj), h, w)]
    if isinstance(pyobj, dict):
        if "counts" in pyobj and "size" in pyobj:
            return frPyObjects([pyobj], h, w)[0]
        raise ValueError("input type is not supported: a dict needs 'counts' and 'size'")
    if isinstance(pyobj, list) and pyobj:
        first = pyobj[0]
        if isinstance(first, dict):
            if not all(isinstance(o, dict) and "counts" in o and "size" in o for o in pyobj):
                raise ValueError("uncompressed RLEs need 'counts' and 'size'")
            # pycocotools takes each RLE's own 'size' (h and w are not used for them)
            return [_dict(_C.rle_from_counts(*_uncompressed(o, i))[0]) for i, o in enumerate(pyobj)]
        if not isinstance(first, (list, tuple, np.ndarray)):
            raise ValueError("polygons must be lists of numbers [x1, y1, x2, y2, ...]")
        if len(first) == 4:  # pycocotools reads a list whose first entry has 4 numbers as boxes
            return [_dict(o) for o in _C.rle_from_bboxes(_boxes(pyobj), h, w)]
        try:
            polys = [[float(v) for v in p] for p in pyobj]
        except (TypeError, ValueError):
            raise ValueError("polygons must be lists of numbers [x1, y1, x2, y2, ...]") from None
        return [_dict(o) for o in _C.rle_from_polygons(polys, h, w)]
    raise ValueError("input type is not supported (polygons, boxes or uncompressed RLEs)")


def _uncompressed(obj, i):
    """([counts], h, w) of an uncompressed RLE dict, checked."""
    size, counts = obj["size"], obj["counts"]
    if not (isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(v, (int, np.integer)) for v in size)):
        raise ValueError(f"uncompressed RLE {i}: 'size' must be [h, w] integers, got {size!r}")
    if not (isinstance(counts, (list, tuple, np.ndarray))
            and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in counts)):
        raise ValueError(f"uncompressed RLE {i}: 'counts' must be a list of integers")
    return [list(counts)], int(size[0]), int(size[1])


def to_rle(masks):
    """(N, H, W) masks (numpy or torch, any dtype: nonzero is foreground) -> list of RLEs."""
    if is_tensor(masks):
        masks = masks.detach().cpu().numpy()
    m = np.asarray(masks)
    if m.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {m.shape}")
    return encode(np.ascontiguousarray((m != 0).astype(np.uint8)).transpose(1, 2, 0))


def from_rle(rles, like=None):
    """RLEs -> (N, H, W) uint8 masks (numpy; a torch tensor on like's device when like is a
    tensor)."""
    m = decode(list(rles)).transpose(2, 0, 1)
    if is_tensor(like):
        return torch_module().from_numpy(np.ascontiguousarray(m)).to(like.device)
    return np.ascontiguousarray(m)
