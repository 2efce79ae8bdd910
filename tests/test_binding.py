"""The compiled module checks its own arguments: every array entry of cvkernels._C, called
directly with a wrong dtype, shape, rank, layout, a read-only output or an integer address,
raises TypeError or ValueError from C++ (never reads or writes out of bounds), and the same
call with correct buffers runs. Torch tensors cross as DLPack capsules and get the same checks.
"""

import numpy as np
import pytest

from cvkernels import _C

f32, f64, i64, i32, u8 = np.float32, np.float64, np.int64, np.int32, np.uint8


def boxes(n, dt=f32, batch=None):
    rng = np.random.default_rng(n)
    b = rng.uniform(0, 10, (n, 4)).astype(dt)
    b[:, 2:] += b[:, :2]
    return b if batch is None else np.stack([b] * batch)


def rois(k, n=2, dt=f32):
    r = np.zeros((k, 5), dt)
    r[:, 0] = np.arange(k) % n
    r[:, 1:3] = 1
    r[:, 3:] = 5
    return r


# name -> (callable returning the argument list, the positions of its array arguments)
CASES = {
    "box_pairwise": (lambda: [0, boxes(3), boxes(2), np.empty((3, 2), f32), 0.0], (1, 2, 3)),
    "box_pairwise_backward": (
        lambda: [1, boxes(3), boxes(2), np.ones((3, 2), f32), np.empty((3, 4), f32), np.empty((2, 4), f32), 0.0],
        (1, 2, 3, 4, 5),
    ),
    "box_loss": (lambda: [2, boxes(3), boxes(3), np.empty(3, f32), 1e-7], (1, 2, 3)),
    "box_loss_backward": (
        lambda: [3, boxes(3), boxes(3), np.ones(3, f32), np.empty((3, 4), f32), np.empty((3, 4), f32), 1e-7],
        (1, 2, 3, 4, 5),
    ),
    "box_area": (lambda: [boxes(3), np.empty(3, f32)], (0, 1)),
    "box_iou_rotated": (lambda: [np.ones((3, 5), f32), np.ones((2, 5), f32), np.empty((3, 2), f32)], (0, 1, 2)),
    "nms_rotated": (lambda: [np.ones((3, 5), f32), np.ones(3, f32), np.zeros(3, i64), 0.5, np.empty(3, i64)], (0, 1, 2, 4)),
    "decode_boxes": (lambda: [np.zeros((3, 4), f32), boxes(3), [1.0] * 4, 4.0, np.empty((3, 4), f32)], (0, 1, 4)),
    "encode_boxes": (lambda: [boxes(3), boxes(3), [1.0] * 4, np.empty((3, 4), f32)], (0, 1, 3)),
    "decode_topk": (lambda: [np.zeros((3, 2), f32), np.zeros((3, 4), f32), boxes(3), 0.3, 4, [1.0] * 4, 4.0, -1.0, -1.0,
                             np.empty((4, 4), f32), np.empty(4, f32), np.empty(4, i64), np.empty(4, i64)],
                    (0, 1, 2, 9, 10, 11, 12)),
    "softmax_focal_loss": (lambda: [np.zeros((2, 3, 4), f32), np.zeros((2, 4), i64), np.ones(3, f32), 2.0, -100,
                                    np.empty((2, 4), f32), np.empty((2, 3, 4), f32)], (0, 1, 2, 5, 6)),
    "heatmap_peaks": (lambda: [np.random.default_rng(0).uniform(size=(1, 2, 4, 4)).astype(f32), np.ones((1, 2, 4, 4), f32),
                               None, 3, 3, np.empty((1, 3, 4), f32), np.empty((1, 3), f32), np.empty((1, 3), i64),
                               np.empty((1, 3), i64)], (0, 1, 5, 6, 7, 8)),
    "sigmoid_focal_loss": (lambda: [np.zeros((2, 3), f32), np.ones((2, 3), f32), 0.25, 2.0, np.empty((2, 3), f32),
                                    np.empty((2, 3), f32)], (0, 1, 4, 5)),
    "box_convert": (lambda: [boxes(3), np.empty((3, 4), f32), 0, 2], (0, 1)),
    "nms": (lambda: [boxes(5), np.linspace(0, 1, 5).astype(f32), 0.5, np.empty(5, i64)], (0, 1, 3)),
    "batched_nms": (
        lambda: [boxes(5), np.linspace(0, 1, 5).astype(f32), np.arange(5, dtype=i64), 0.5, np.empty(5, i64)],
        (0, 1, 2, 4),
    ),
    "soft_nms": (
        lambda: [boxes(5), np.linspace(0, 1, 5).astype(f32), None, 0.3, 0.5, 0.001, 0, np.empty(5, i64),
                 np.empty(5, f32)],
        (0, 1, 7, 8),
    ),
    "multiclass_nms": (
        lambda: [boxes(4, batch=2), np.full((2, 4, 3), 0.5, f32), 0.05, 0.5, 10, 5, False, np.empty(2, i64),
                 np.empty((2, 5, 4), f32), np.empty((2, 5), f32), np.empty((2, 5), i64)],
        (0, 1, 7, 8, 9, 10),
    ),
    "roi_align_forward": (
        lambda: [np.ones((2, 3, 8, 8), f32), False, rois(4), np.empty((4, 3, 2, 2), f32), 1.0, 2, True],
        (0, 2, 3),
    ),
    "roi_align_backward": (
        lambda: [np.ones((4, 3, 2, 2), f32), rois(4), np.empty((2, 3, 8, 8), f32), False, 1.0, 2, True, False],
        (0, 1, 2),
    ),
    "roi_pool_forward": (
        lambda: [np.ones((2, 3, 8, 8), f32), False, rois(4), np.empty((4, 3, 2, 2), f32),
                 np.empty((4, 3, 2, 2), i32), 1.0],
        (0, 2, 3, 4),
    ),
    "roi_pool_backward": (
        lambda: [np.ones((4, 3, 2, 2), f32), np.zeros((4, 3, 2, 2), i32), rois(4), np.empty((2, 3, 8, 8), f32),
                 False, False],
        (0, 1, 2, 3),
    ),
    "conv2d_forward": (
        lambda: [np.ones((1, 4, 6, 6), f32), np.ones((2, 2, 3, 3), f32), np.ones(2, f32), np.empty((1, 2, 2, 2), f32),
                 [1, 1], [0, 0, 0, 0], [2, 2], 2],
        (0, 1, 2, 3),
    ),
    "conv2d_backward": (
        lambda: [np.ones((1, 2, 2, 2), f32), np.ones((1, 4, 6, 6), f32), np.ones((2, 2, 3, 3), f32),
                 np.empty((1, 4, 6, 6), f32), np.empty((2, 2, 3, 3), f32), np.empty(2, f32),
                 [1, 1], [0, 0, 0, 0], [2, 2], 2],
        (0, 1, 2, 3, 4, 5),
    ),
    "mask_binary_counts": (
        lambda: [np.ones((3, 16), u8), np.zeros((3, 16), u8), np.zeros(3, i64), np.zeros(3, i64), np.zeros(3, i64)],
        (0, 1, 2, 3, 4),
    ),
    "mask_label_counts": (
        lambda: [np.zeros((2, 16), i64), np.ones((2, 16), i64), 3, -1, np.zeros((2, 3), i64), np.zeros((2, 3), i64),
                 np.zeros((2, 3), i64)],
        (0, 1, 4, 5, 6),
    ),
    "mask_mixed_counts": (
        lambda: [np.zeros((2, 16), i64), np.ones((6, 16), u8), 3, True, np.zeros((2, 3), i64), np.zeros((2, 3), i64),
                 np.zeros((2, 3), i64)],
        (0, 1, 4, 5, 6),
    ),
    "mask_argmax": (lambda: [np.ones((2, 3, 4, 4), f32), np.empty((2, 4, 4), i64)], (0, 1)),
    "dice_stats": (
        lambda: [np.ones((2, 3, 4, 4), f32), np.zeros((2, 4, 4), i64), None, 2, -1, np.empty((3, 3), f64)],
        (0, 1, 5),
    ),
    "dice_stats_backward": (
        lambda: [np.ones((2, 3, 4, 4), f32), None, np.ones((2, 3, 4, 4), f32), 1, -1, np.ones((3, 3), f64),
                 np.empty((2, 3, 4, 4), f32)],
        (0, 2, 5, 6),
    ),
    "pairwise_masks": (lambda: [np.ones((3, 5, 70), u8), np.zeros((2, 5, 70), u8), False, np.empty((3, 2), f64)],
                       (0, 1, 3)),
    "decode_yolo": (lambda: [np.zeros((2, 3, 4, 7), f32), np.ones((2, 2), f32), 8.0, True, 0.25, 5, np.empty((5, 4), f32),
                             np.empty(5, f32), np.empty(5, i64), np.empty(5, i64)], (0, 1, 6, 7, 8, 9)),
    "topk_hits": (lambda: [np.linspace(0, 1, 12).astype(f32).reshape(4, 3), np.arange(4, dtype=i64) % 3, 2,
                           np.empty(4, u8)], (0, 1, 3)),
    "label_range": (lambda: [np.arange(5, dtype=i64)], (0,)),
    "class_sums": (lambda: [np.arange(5, dtype=i64) % 3, np.zeros(5, i64), None, 0, 3, np.empty(3, f64),
                            np.empty(3, f64), np.empty(3, f64)], (0, 1, 5, 6, 7)),
    "confusion_counts": (lambda: [np.arange(5, dtype=i64) % 3, np.zeros(5, i64), np.ones(5, f64), 0, 3,
                                  np.empty((3, 3), f64)], (0, 1, 2, 5)),
    "indicator_sums": (lambda: [np.ones((4, 3), u8), np.zeros((4, 3), u8), None, False, np.empty(3, f64),
                                np.empty(3, f64), np.empty(3, f64)], (0, 1, 4, 5, 6)),
    "binary_curve": (lambda: [np.linspace(0, 1, 6).astype(f32), np.arange(6, dtype=u8) % 2, None, np.empty(6, f32),
                              np.empty(6, f64), np.empty(6, f64)], (0, 1, 3, 4, 5)),
    "ranking_columns": (lambda: [np.linspace(0, 1, 12).astype(f32).reshape(4, 3), np.arange(4, dtype=i64) % 3, None,
                                 np.ones(4, f64), 0.5, np.empty(3, f64), np.empty(3, f64), np.empty(3, f64),
                                 np.empty(3, f64), np.empty(3, f64)], (0, 1, 3, 5, 6, 7, 8, 9)),
    "rle_encode": (lambda: [np.ones((2, 5, 4), u8)], (0,)),
    "rle_decode": (lambda: [_C.rle_encode(np.ones((1, 5, 4), u8)), np.empty((1, 5, 4), u8)], (1,)),
}


# Buffers whose leading size is free (another batch size is a valid call): not mutated in size.
SIZE_FREE = {("rle_encode", 0), ("label_range", 0), ("roi_align_forward", 0), ("roi_pool_forward", 0), ("roi_align_backward", 2),
             ("roi_pool_backward", 3)}


def _other_dtype(a):
    """A dtype the slot of `a` never takes: integers for float buffers, float32 for the others."""
    return a.astype(i32) if a.dtype.kind == "f" else a.astype(f32)


def _mutations(a):
    """Arrays that must all be refused in place of `a`."""
    yield "dtype", _other_dtype(np.zeros_like(a))
    yield "rank", a[None]
    yield "size", np.concatenate([a, a[:1]]) if a.ndim and len(a) else np.zeros((1,) + a.shape[1:], a.dtype)
    if a.ndim >= 1 and a.shape[-1] > 1 and a.size > 1:
        yield "non-contiguous", np.repeat(a, 2, axis=-1)[..., ::2]
    yield "address", int(a.ctypes.data)
    yield "float16", np.zeros(a.shape, np.float16)


def test_every_array_entry_is_covered():
    entries = {n for n in dir(_C) if not n.startswith("_") and callable(getattr(_C, n))}
    scalar_only = {"cpu_has_avx2", "get_num_threads", "max_threads", "release_workspace", "set_avx512_enabled", "set_num_threads",
                   "set_simd_enabled", "set_conv_winograd_enabled", "simd_level", "threads_backend", "CocoEval",
                   "RleSet", "read_coco_json"}
    # these take pybind11-converted arrays (copied into the right dtype) or lists; tested below
    converted = {"bbox_iou_xywh", "keypoint_oks", "match_detections", "rle_area", "rle_to_bbox", "rle_merge", "rle_iou",
                 "rle_from_polygons", "rle_from_bboxes", "rle_from_counts", "accumulate_records", "linear_sum_assignment",
                 "detr_match", "box_results_from_list", "segm_results_from_list", "rle_set_from_list", "rle_columns",
                 "values_above",
                 "panoptic_stats"}
    assert entries - scalar_only - converted == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_call_runs(name):
    make, _ = CASES[name]
    getattr(_C, name)(*make())


@pytest.mark.parametrize("name", sorted(CASES))
def test_wrong_buffers_raise(name):
    make, slots = CASES[name]
    fn = getattr(_C, name)
    for slot in slots:
        for what, bad in _mutations(make()[slot]):
            args = make()
            args[slot] = bad
            if what == "size" and (name, slot) in SIZE_FREE:
                continue
            if what == "rank" and name.startswith("mask_") and name.endswith("counts") and slot >= len(slots) - 3:
                continue  # the count outputs are checked by element count: (N, C) or (N * C,) alike
            with pytest.raises((TypeError, ValueError)):
                fn(*args)
                print(f"argument {slot} with a wrong {what} was accepted")


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_only_outputs_raise(name):
    make, slots = CASES[name]
    out_slot = slots[-1]
    args = make()
    out = args[out_slot]
    if name in ("nms", "batched_nms") or (name.startswith("mask_") and name.endswith("counts")) or \
            name in ("rle_encode", "label_range"):
        return  # (rle_encode and label_range have no output buffer; the mask counts and keep buffers: below)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        getattr(_C, name)(*args)


def test_read_only_keep_and_counts_raise():
    b, s, keep = boxes(5), np.linspace(0, 1, 5).astype(f32), np.empty(5, i64)
    keep.flags.writeable = False
    with pytest.raises(ValueError, match="keep"):
        _C.nms(b, s, 0.5, keep)
    I = np.zeros(3, i64)
    I.flags.writeable = False
    with pytest.raises(ValueError, match="inter"):
        _C.mask_binary_counts(np.ones((3, 4), u8), np.ones((3, 4), u8), I, np.zeros(3, i64), np.zeros(3, i64))


def test_cpu_module_refuses_a_stream_and_bad_codes():
    with pytest.raises(ValueError, match="stream"):
        _C.box_area(boxes(2), np.empty(2, f32), 12345)
    with pytest.raises(ValueError, match="kind"):
        _C.box_pairwise(9, boxes(3), boxes(2), np.empty((3, 2), f32), 0.0)
    with pytest.raises(ValueError, match="format"):
        _C.box_convert(boxes(3), np.empty((3, 4), f32), 0, 7)
    with pytest.raises(ValueError, match="method"):
        _C.soft_nms(boxes(2), np.ones(2, f32), None, 0.3, 0.5, 0.0, 5, np.empty(2, i64), np.empty(2, f32))


def test_values_the_kernels_would_index_by_are_checked():
    r = rois(2)
    r[1, 0] = 7  # batch index past N = 2
    with pytest.raises(ValueError, match="batch index"):
        _C.roi_align_forward(np.ones((2, 3, 8, 8), f32), False, r, np.empty((2, 3, 2, 2), f32), 1.0, 2, True)
    lab = np.zeros((2, 4, 4), i64)
    lab[0, 0, 0] = 9
    with pytest.raises(ValueError, match="label 9"):
        _C.dice_stats(np.ones((2, 3, 4, 4), f32), lab, None, 2, -1, np.empty((3, 3), f64))
    with pytest.raises(ValueError, match="G = 2"):
        _C.match_detections(np.zeros((3, 2)), [0.5], np.zeros(1, u8), np.zeros(2, u8), False)
    with pytest.raises(ValueError, match="iscrowd"):
        _C.bbox_iou_xywh(np.zeros((3, 4)), np.zeros((2, 4)), np.zeros(5, u8))
    with pytest.raises(ValueError, match="size"):
        _C.rle_decode(_C.rle_encode(np.ones((1, 5, 4), u8)), np.empty((1, 4, 4), u8))
    with pytest.raises(ValueError, match="gt_keypoints must have shape"):
        _C.keypoint_oks(np.zeros((2, 6)), np.zeros((3, 5)), np.zeros((3, 4)), np.zeros(3), [0.1, 0.1])
    with pytest.raises(ValueError, match="gt_boxes"):
        _C.keypoint_oks(np.zeros((2, 6)), np.zeros((3, 6)), np.zeros((2, 4)), np.zeros(3), [0.1, 0.1])


def test_exported_constants_are_the_kernels_codes():
    assert _C.BOX_KINDS == {"iou": 0, "giou": 1, "diou": 2, "ciou": 3}
    assert _C.BOX_FORMATS == {"xyxy": 0, "xywh": 1, "cxcywh": 2}
    assert _C.SOFT_NMS_METHODS == {"gaussian": 0, "linear": 1}
    assert _C.DICE_ACTIVATIONS == {"none": 0, "sigmoid": 1, "softmax": 2}


def test_torch_tensors_cross_as_checked_dlpack():
    torch = pytest.importorskip("torch")
    from torch.utils.dlpack import to_dlpack

    a, b = torch.from_numpy(boxes(3)), torch.from_numpy(boxes(2))
    out = torch.empty((3, 2))
    _C.box_pairwise(0, to_dlpack(a), to_dlpack(b), to_dlpack(out), 0.0)
    assert torch.allclose(out, torch.from_numpy(np.asarray(__import__("cvkernels").box_iou(boxes(3), boxes(2)))))
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.box_area(to_dlpack(a.half()), to_dlpack(torch.empty(3, dtype=torch.float16)))
    with pytest.raises(ValueError, match="contiguous"):
        _C.box_area(to_dlpack(a.t().contiguous().t()), to_dlpack(torch.empty(3)))
    with pytest.raises(ValueError, match="shape"):
        _C.box_area(to_dlpack(a), to_dlpack(torch.empty(4)))
    with pytest.raises(ValueError, match="boxes2"):
        _C.box_pairwise(0, to_dlpack(a), to_dlpack(b[:, :3].contiguous()), to_dlpack(out), 0.0)
    # a capsule is consumed only by its own call: it can be passed again
    cap = to_dlpack(a)
    _C.box_area(cap, to_dlpack(torch.empty(3)))
    _C.box_area(cap, to_dlpack(torch.empty(3)))


def test_misaligned_buffers_are_refused_by_c_and_copied_by_the_package():
    raw = np.zeros(4 * 8 * 3 + 1, np.uint8)
    b = np.frombuffer(raw.data, dtype=f64, count=12, offset=1).reshape(3, 4)  # address % 8 == 1
    assert not b.flags.aligned
    with pytest.raises(ValueError, match="aligned"):
        _C.box_area(b, np.empty(3, f64))
    import cvkernels

    np.testing.assert_array_equal(cvkernels.box_area(b), np.zeros(3))
    np.testing.assert_array_equal(cvkernels.box_iou(b, b), np.zeros((3, 3)))
    assert len(cvkernels.nms(b, np.frombuffer(raw.data, f64, 3, 1), 0.5)) == 3


def test_sampling_ratio_bound():
    import cvkernels

    x = np.zeros((1, 1, 4, 4), f32)
    with pytest.raises(ValueError, match="sampling_ratio"):
        cvkernels.roi_align(x, rois(1, 1), 2, sampling_ratio=2**40)
    with pytest.raises(ValueError, match="sampling_ratio"):
        _C.roi_align_forward(x, False, rois(1, 1), np.empty((1, 1, 2, 2), f32), 1.0, 2**40, False)


def test_box_list_reader_in_parallel_reads_what_a_loop_reads():
    """A list long enough for the reader's threads: results with the interned keys (read by the
    threads), with equal keys that are other objects, ints of 2^53 and beyond, tuples, extra keys
    (read afterwards by lookups): the columns a plain Python loop gives; one result of another
    kind anywhere makes it None."""
    import sys

    rng = np.random.default_rng(3)
    results = []
    for i in range(30000):
        d = {"image_id": int(rng.integers(0, 500)), "category_id": int(rng.integers(1, 9)),
             "bbox": [float(x) for x in rng.random(4) * 100], "score": float(rng.random())}
        if i % 7 == 0:
            d = {"".join(list(k)): v for k, v in d.items()}  # keys equal, not identical
        if i % 11 == 0:
            d["bbox"] = (1, 2, 2**53, 2**60)  # exact ints; beyond 2^53 rounded as PyLong_AsDouble
        if i % 13 == 0:
            d["extra"] = [1, 2]
        if i % 17 == 0:
            d["score"] = 1
        results.append(d)
    assert next(k for k in results[0] if k == "bbox") is not sys.intern("bbox")
    img, cat, box, score, sane = _C.box_results_from_list(results)
    assert sane is True
    np.testing.assert_array_equal(img, [d["image_id"] for d in results])
    np.testing.assert_array_equal(cat, [d["category_id"] for d in results])
    np.testing.assert_array_equal(box, np.array([[float(x) for x in d["bbox"]] for d in results]))
    np.testing.assert_array_equal(score, [float(d["score"]) for d in results])
    for at in (0, 12345, 29999):
        odd = list(results)
        odd[at] = dict(results[at], category_id=True)
        assert _C.box_results_from_list(odd) is None


def test_list_readers_and_converted_entries_refuse_garbage():
    """The C++ readers of Python lists give None (the Python reader takes over) for anything that
    is not a plain list of plain dicts; the converted-array entries check shapes."""
    for junk in ([1, 2], [{"image_id": 1}], [{"image_id": "a", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}],
                 [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1.0}],
                 [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, "x"], "score": 1.0}],
                 [{"image_id": 2**70, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}],
                 [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": None}]):
        assert _C.box_results_from_list(junk) is None
    ok = [{"image_id": 1, "category_id": 2, "bbox": (0, 0, 1.5, 2), "score": 1}]
    img, cat, box, score, sane = _C.box_results_from_list(ok)
    assert img.tolist() == [1] and cat.tolist() == [2] and box.tolist() == [[0, 0, 1.5, 2]] and score.tolist() == [1.0]
    assert sane is True
    for bad in ({"bbox": (0, 0, -1, 2)}, {"bbox": (0, 0, 1, -0.5)}, {"bbox": (float("inf"), 0, 1, 1)},
                {"bbox": (0, float("nan"), 1, 1)}, {"score": float("nan")}):
        assert _C.box_results_from_list(ok + [dict(ok[0], **bad)])[4] is False, bad
    rle = {"size": [4, 4], "counts": "01400000"}  # the 4 x 4 identity
    for junk in ([{"segmentation": [[0, 0, 1, 1, 2, 2]]}], [{"segmentation": {"size": [4], "counts": "01400000"}}],
                 [{"segmentation": {"size": [4, -4], "counts": "01400000"}}], [{"segmentation": {"size": [4, 4], "counts": 5}}],
                 [{"segmentation": {"size": [4, 4], "counts": "\u00e9"}}], [rle]):
        assert _C.rle_set_from_list(junk) is None
        assert _C.segm_results_from_list(junk) is None
    assert len(_C.rle_set_from_list([{"segmentation": rle}])) == 1
    assert _C.rle_columns([rle, [0, 1]]) is None
    rle_set, area, box = _C.rle_columns([rle])
    assert len(rle_set) == 1 and area.tolist() == [4.0] and box.tolist() == [[0, 0, 4, 4]]
    with pytest.raises(ValueError, match="malformed RLE"):
        _C.rle_set_from_list([{"segmentation": {"size": [4, 4], "counts": "\x7f"}}])
    with pytest.raises(TypeError):
        _C.box_results_from_list("not a list")
    with pytest.raises(ValueError, match="2-D"):
        _C.linear_sum_assignment([np.zeros((2, 2, 2))])
    with pytest.raises(ValueError, match="state must have shape"):
        _C.accumulate_records(np.zeros(2, i64), np.zeros(2, i64), np.zeros(2, i64), np.zeros(2), np.zeros((2, 4), u8),
                              np.zeros((1, 4), i64), 1, [0.0, 1.0], [1])
    with pytest.raises(ValueError, match="category out of range"):
        _C.accumulate_records(np.full(1, 5, i64), np.zeros(1, i64), np.zeros(1, i64), np.zeros(1), np.zeros((1, 1, 1), u8),
                              np.zeros((1, 1), i64), 1, [0.0, 1.0], [1])
    with pytest.raises(ValueError, match="one entry per image"):
        _C.detr_match(np.zeros((2, 3, 4), f32), np.zeros((2, 3, 4), f32), [], [], 1.0, 1.0, 1.0)
