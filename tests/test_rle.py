"""cvkernels.mask against pycocotools.mask (the oracle): byte-identical counts, equal values,
dtypes and shapes on random masks (empty, full, single pixel, one row, one column, large),
polygons, boxes, uncompressed RLE; malformed input raises ValueError, never crashes."""

import numpy as np
import pytest

from cvkernels import mask as cm

pm = pytest.importorskip("pycocotools.mask")


def random_masks(rng, h, w, n):
    yy, xx = np.mgrid[:h, :w]
    m = np.zeros((h, w, n), np.uint8)
    for k in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(1, h), rng.uniform(1, w)
        m[:, :, k] = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1) ^ (rng.uniform(size=(h, w)) < 0.02)
    m[:, :, 0] = 0  # empty
    m[:, :, 1] = 1  # full
    m[:, :, 2] = 0
    m[h // 2, w // 2, 2] = 1  # a single pixel
    m[:, :, 3] = 0
    m[h - 1, :, 3] = 1  # one row
    m[:, :, 4] = 0
    m[:, 0, 4] = 1  # one column
    return np.asfortranarray(m)


@pytest.mark.parametrize("h,w", [(1, 1), (1, 17), (23, 1), (37, 53), (300, 211)])
def test_same_as_pycocotools(rng, h, w):
    m = random_masks(rng, h, w, 9)
    a, b = pm.encode(m), cm.encode(m)
    assert a == b  # byte-identical counts
    np.testing.assert_array_equal(pm.decode(a), cm.decode(b))
    assert cm.decode(b).flags.f_contiguous and cm.decode(b).dtype == np.uint8
    np.testing.assert_array_equal(pm.area(a), cm.area(b))
    assert cm.area(b).dtype == pm.area(a).dtype
    np.testing.assert_array_equal(pm.toBbox(a), cm.toBbox(b))
    assert pm.merge(a) == cm.merge(b) and pm.merge(a, 1) == cm.merge(b, 1)
    crowd = list(rng.integers(0, 2, 9))
    np.testing.assert_array_equal(pm.iou(a, a, crowd), cm.iou(b, b, crowd))
    np.testing.assert_array_equal(pm.iou(a[:5], a[4:], crowd[4:]), cm.iou(b[:5], b[4:], crowd[4:]))
    # single masks and single RLEs
    assert pm.encode(m[:, :, 5]) == cm.encode(m[:, :, 5])
    np.testing.assert_array_equal(pm.decode(a[5]), cm.decode(b[5]))
    assert pm.area(a[5]) == cm.area(b[5])
    np.testing.assert_array_equal(pm.toBbox(a[5]), cm.toBbox(b[5]))


def test_from_py_objects(rng):
    h, w = 120, 90
    polys = [list(rng.uniform(-5, 100, 2 * k)) for k in (3, 4, 7, 12)]
    assert pm.frPyObjects(polys, h, w) == cm.frPyObjects(polys, h, w)
    boxes = np.concatenate([rng.uniform(-10, 80, (6, 2)), rng.uniform(0, 60, (6, 2))], 1)
    assert pm.frPyObjects(boxes, h, w) == cm.frPyObjects(boxes, h, w)
    # pycocotools sends a list of 4-lists to frBbox, which then rejects a list: we accept it
    assert pm.frPyObjects(boxes, h, w) == cm.frPyObjects(boxes.tolist(), h, w)
    runs = {"size": [h, w], "counts": [100, 30, h * w - 130]}
    assert pm.frPyObjects(runs, h, w) == cm.frPyObjects(runs, h, w)
    assert pm.frPyObjects([runs], h, w) == cm.frPyObjects([runs], h, w)
    # merge of a polygon annotation's parts, as COCO.annToRLE does
    assert pm.merge(pm.frPyObjects(polys, h, w)) == cm.merge(cm.frPyObjects(polys, h, w))
    # boxes IoU
    np.testing.assert_array_equal(pm.iou(boxes, boxes[:3], [0, 1, 0]), cm.iou(boxes, boxes[:3], [0, 1, 0]))
    assert cm.iou([], boxes, []) == []


def test_dense_interop(rng):
    masks = rng.uniform(size=(5, 31, 17)) > 0.5
    rles = cm.to_rle(masks)
    assert rles == pm.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    np.testing.assert_array_equal(cm.from_rle(rles), masks.astype(np.uint8))


def test_malformed_input_is_an_error(rng):
    good = cm.encode(random_masks(rng, 20, 20, 6))[5]
    with pytest.raises(ValueError, match="character outside"):
        cm.decode({"size": [20, 20], "counts": b"\x01\x02"})
    with pytest.raises(ValueError, match="truncated"):
        cm.area({"size": [20, 20], "counts": good["counts"] + b"o"})  # 'o' = 63: continues, then ends
    with pytest.raises(ValueError, match="add up to"):
        cm.decode({"size": [21, 20], "counts": good["counts"]})
    with pytest.raises(ValueError, match="at least 3 points"):
        cm.frPyObjects([[1.0, 2.0, 3.0, 4.0, 5.0]], 10, 10)
    with pytest.raises(ValueError, match="at least 3 points"):
        cm.frPyObjects([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 2.0]], 10, 10)
    with pytest.raises(ValueError, match="'size'"):
        cm.area([{"counts": b"0"}])
    with pytest.raises(ValueError, match="both"):
        cm.iou([good], np.zeros((1, 4)), [0])


def test_iou_of_object_like_masks(rng):
    """Blobs that partly overlap: the intersection walk starts and stops inside both masks."""
    from cvkernels.bench.masks import blobs

    m = np.asfortranarray(blobs(30, 97, 83, 5).transpose(1, 2, 0).astype(np.uint8))
    a, b = pm.encode(m), cm.encode(m)
    crowd = list(rng.integers(0, 2, 12))
    np.testing.assert_array_equal(pm.iou(a[:18], a[18:], crowd), cm.iou(b[:18], b[18:], crowd))
    np.testing.assert_array_equal(pm.iou(a, a, [0] * 30), cm.iou(b, b, [0] * 30))



def test_to_bbox_with_zero_length_runs_as_pycocotools(rng):
    # counts starting with empty runs gave a width of 2^30 (an unsigned underflow)
    r = cm.frPyObjects({"size": [4, 4], "counts": [0, 0, 0, 4, 12]}, 4, 4)
    np.testing.assert_array_equal(cm.toBbox(r), [0, 0, 1, 4])
    for _ in range(2000):  # random run lists with empty runs anywhere, every quirk of pycocotools 2.0.11
        h, w = (int(v) for v in rng.integers(1, 6, 2))
        cuts = np.sort(rng.integers(0, h * w + 1, int(rng.integers(0, 8))))
        counts = np.diff(np.concatenate([[0], cuts, [h * w]])).tolist()
        obj = {"size": [h, w], "counts": counts}
        ours, theirs = cm.frPyObjects(obj, 7, 7), pm.frPyObjects(obj, 7, 7)
        assert ours == theirs
        np.testing.assert_array_equal(cm.toBbox(ours), pm.toBbox(theirs), err_msg=str(counts))


def test_to_bbox_matches_the_reference_past_32_bit_positions(rng):
    """toBbox divides run positions by h with a multiply-shift; pin it to pycocotools' division
    (the reference) on masks of every height, including positions that wrap past 2^32 as
    pycocotools' unsigned sum does (pycocotools itself crashes on such masks, so only the
    reference judges them)."""
    from cvkernels.reference.masks import rle_bbox

    for h, w in [(1, 9), (2, 7), (3, 1000), (480, 640), (65521, 3), (70000, 70000), (2**31 - 1, 5)]:
        for _ in range(150):
            k = int(rng.integers(0, 12))
            cuts = np.sort(rng.integers(0, h * w + 1, k, dtype=np.int64))
            counts = np.diff(np.concatenate([[0], cuts, [h * w]])).tolist()
            if max(counts) >= 2**32:
                continue
            ours = cm.frPyObjects({"size": [h, w], "counts": counts}, h, w)
            np.testing.assert_array_equal(cm.toBbox(ours), rle_bbox(counts, h, w), err_msg=f"{h}x{w} {counts}")


def test_fr_py_objects_takes_an_uncompressed_rles_own_size():
    obj = {"size": [2, 8], "counts": [4, 4, 8]}
    ours = cm.frPyObjects(obj, 4, 4)  # h, w are not used for an RLE, as in pycocotools
    assert ours == pm.frPyObjects(obj, 4, 4) and ours["size"] == [2, 8]
    np.testing.assert_array_equal(cm.toBbox(ours), pm.toBbox(pm.frPyObjects(obj, 4, 4)))
    with pytest.raises(ValueError, match="counts add up to 15, not h\\*w = 16"):
        cm.frPyObjects({"size": [2, 8], "counts": [4, 4, 7]}, 2, 8)
    with pytest.raises(ValueError, match="'counts' must be a list of integers"):
        cm.frPyObjects({"size": [2, 8], "counts": "abc"}, 2, 8)
