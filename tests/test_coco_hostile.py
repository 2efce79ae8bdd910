"""Hostile COCO files: valid ground-truth and results files mutated (JSON-level: duplicate
keys, deep nesting, truncation, bytes that are not UTF-8, bad literals, a BOM, trailing data;
structure-level: missing keys, wrong types, huge or negative numbers, duplicate ids, crowd
flags out of range, malformed boxes, polygons, RLEs and keypoints, image sizes) and run through
COCO, loadRes and COCOeval (bbox and segm; bbox and keypoints for keypoint files) and through
`cvkernels eval` in child processes, so that a crash fails the test instead of the run.

Every case must either evaluate or raise ValueError (never SIGSEGV, RecursionError, KeyError,
TypeError, OverflowError, IndexError, AttributeError or UnicodeDecodeError); a file that
Python's json module rejects must be rejected; where pycocotools also evaluates the case, the
twelve stats must be its stats; the CLI must exit 0 or 2 with one line naming the file. CI runs
a few hundred cases; `-m slow` (or CVK_SLOW=1) runs thousands.
"""

import copy
import json
import os
import random
import subprocess
import sys

import pytest

from cvkernels.bench.coco_data import synthetic_coco, synthetic_keypoints, with_segmentations

N_CASES = 240  # CI size (each case: bbox and segm evaluation, plus the CLI for some)


def _base_keypoints(seed):
    return synthetic_keypoints(6, persons_per_image=3, dets_per_image=5, seed=seed, crowd_frac=0.2,
                               with_bbox=bool(seed % 2))


def _base(seed):
    gt, dets = with_segmentations(*synthetic_coco(6, 3, seed=seed, gt_per_image=3, dets_per_image=6,
                                                  crowd_frac=0.2), seed=seed)
    # segm results keep their boxes: one results file then serves both evaluations
    for d, src in zip(dets, synthetic_coco(6, 3, seed=seed, gt_per_image=3, dets_per_image=6, crowd_frac=0.2)[1]):
        d["bbox"] = src["bbox"]
    return gt, dets


HOSTILE_VALUES = [None, True, "x", "", [], {}, [1, 2], -1, 0, 256, 2**63, 10**30, -10**30, 1e308, 1.5,
                  float("nan"), float("inf"), [[]], {"size": [1, 1]}]


def _paths(obj, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    if value is _DELETE:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value


_DELETE = object()


def _mutate_structure(rng, doc):
    """One structural mutation of a parsed file (in place)."""
    paths = [p for p, _ in _paths(doc) if p]
    path = rng.choice(paths)
    kind = rng.random()
    if kind < 0.25 and isinstance(path[-1], str):
        _set(doc, path, _DELETE)
    elif kind < 0.7:
        _set(doc, path, copy.deepcopy(rng.choice(HOSTILE_VALUES)))
    elif kind < 0.8:  # duplicate an entry of a list (duplicate ids)
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        if isinstance(parent, list) and parent:
            parent.append(copy.deepcopy(rng.choice(parent)))
    elif kind < 0.9:  # a malformed segmentation
        anns = doc["annotations"] if isinstance(doc, dict) else doc
        if isinstance(anns, list) and anns and isinstance(anns[0], dict):
            ann = rng.choice(anns)
            if isinstance(ann, dict):
                ann["segmentation"] = rng.choice([
                    [[0, 0, float("nan"), 5, 5, 5]], [[1, 2, 3]], [[]], [], "counts",
                    {"size": [480, 640], "counts": "0"}, {"size": [480, 640], "counts": "\x7f\x7f"},
                    {"size": [480, 640], "counts": [1, 2, 3]}, {"size": [480, 640], "counts": [307200, 5]},
                    {"size": [2, 2], "counts": [4]}, {"size": [-1, 5], "counts": ""}, {"counts": "ab"},
                    {"size": [480, 640], "counts": "P" * 500}, {"size": [480, 640], "counts": [-1, 307201]},
                ])
    else:  # an image size
        if isinstance(doc, dict) and isinstance(doc.get("images"), list) and doc["images"]:
            img = rng.choice(doc["images"])
            if isinstance(img, dict):
                img[rng.choice(["height", "width"])] = rng.choice([0, -5, 2**40, 1.5, None, "480", float("inf")])


def _mutate_bytes(rng, data):
    """One JSON-level mutation of a file's bytes."""
    kind = rng.randrange(9)
    if kind == 0:  # a duplicate section (empty, or half of the real one): Python's json keeps the last
        name = rng.choice(["annotations", "images", "categories"])
        if not data.startswith(b"{") or f'"{name}"'.encode() not in data:
            return data
        section = json.loads(data).get(name)
        half = section[: len(section) // 2] if isinstance(section, list) and rng.random() < 0.5 else []
        dup = f'"{name}": {json.dumps(half)}'.encode()
        return b"{" + dup + b", " + data[1:] if rng.random() < 0.5 else data[:-1] + b", " + dup + b"}"
    if kind == 1:  # deep nesting
        depth = rng.choice([50, 1000, 100000])
        return data[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}" if data.startswith(b"{") else \
            b"[" * depth + b"]" * depth
    if kind == 2:  # truncated
        return data[: rng.randrange(len(data))]
    if kind == 3:  # a byte that is not UTF-8 inside a string
        i = data.find(b'"', rng.randrange(len(data)))
        return data if i < 0 else data[: i + 1] + rng.choice([b"\xff", b"\xc3(", b"\xed\xa0\x80"]) + data[i + 1:]
    if kind == 4:  # a bad literal
        i = data.find(b":", rng.randrange(len(data)))
        return data if i < 0 else data[: i + 1] + rng.choice([b"tru", b"nul", b"+1", b"01", b".5", b"1.", b"--1"]) + \
            data[i + 1:]
    if kind == 5:
        return b"\xef\xbb\xbf" + data  # a byte-order mark (Python's json rejects it)
    if kind == 6:
        return data + rng.choice([b" x", b"]", b"{}"])  # trailing data
    if kind == 7:  # an escaped key that Python reads as "annotations"
        return data.replace(b'"annotations"', b'"annotation\\u0073"', 1)
    i = rng.randrange(len(data))  # a random byte
    return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]


def make_cases(n, seed=0):
    """n (gt bytes, results bytes, label) cases, deterministic for a seed."""
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        keypoints = i % 3 == 2  # a third of the cases: keypoint files, evaluated as bbox and keypoints
        gt, dets = _base_keypoints(i % 5) if keypoints else _base(i % 5)
        target = rng.choice(["gt", "dt"])
        doc = gt if target == "gt" else dets
        label = f"{target}:"
        if rng.random() < 0.6:
            for _ in range(rng.choice([1, 1, 2, 3])):
                _mutate_structure(rng, doc)
            label += "structure"
        data = {"gt": json.dumps(gt).encode(), "dt": json.dumps(dets).encode()}
        if rng.random() < 0.5 or label.endswith(":"):
            data[target] = _mutate_bytes(rng, data[target])
            label += "+bytes"
        cases.append((data["gt"], data["dt"], f"{i}:{'kp-' if keypoints else ''}{label}"))
    return cases


CHILD = r"""
import contextlib, io, json, math, os, sys, traceback
import numpy as np
from cvkernels.coco import COCO, COCOeval
from cvkernels.cli import main as cli
try:
    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval as PyCOCOeval
except ImportError:
    PyCOCO = None
sys.setrecursionlimit(1000)

def evaluate(C, E, g, d, iou):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = C(g)
        e = E(gt, gt.loadRes(d), iou)
        e.evaluate(); e.accumulate(); e.summarize()
    return [float(x) for x in e.stats]

def python_json_ok(path):
    try:
        with open(path, encoding="utf-8") as f:
            json.load(f)
        return True
    except Exception:
        return False

def comparable(path):
    # the README's deliberate differences from pycocotools: an annotation with id 0 is
    # evaluated, one without 'iscrowd' is not a crowd
    with open(path, encoding="utf-8") as f:
        anns = json.load(f).get("annotations", [])
    return all(isinstance(a, dict) and a.get("id") != 0 and "iscrowd" in a for a in anns)

for line in sys.stdin:
    case = json.loads(line)
    print(json.dumps({"start": case["label"]}), flush=True)
    out = {"label": case["label"]}
    json_ok = python_json_ok(case["gt"]) and python_json_ok(case["dt"])
    for iou in case["ious"]:
        try:
            stats = evaluate(COCO, COCOeval, case["gt"], case["dt"], iou)
            out[iou] = "ok"
            if not json_ok:
                out[iou] = "accepted a file Python's json rejects"
            elif PyCOCO is not None and comparable(case["gt"]):
                try:
                    theirs = evaluate(PyCOCO, PyCOCOeval, case["gt"], case["dt"], iou)
                except Exception:
                    theirs = None
                if theirs is not None and not all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(stats, theirs)):
                    out[iou] = f"stats differ from pycocotools: {stats} vs {theirs}"
        except ValueError as e:
            out[iou] = "ValueError" if not isinstance(e, UnicodeDecodeError) else "UnicodeDecodeError"
            if not str(e):
                out[iou] = "ValueError without a message"
        except BaseException as e:
            out[iou] = f"{type(e).__name__}: {e}"[:300] + " " + traceback.format_exc()[-600:]
    if case["cli"]:
        err = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = cli(["eval", case["gt"], case["dt"], "--iou-type", case["ious"][-1]])
            lines = err.getvalue().strip().splitlines()
            if code == 0 and not json_ok:
                out["cli"] = "exit 0 on a file Python's json rejects"
            elif code == 2 and (len(lines) != 1 or (case["gt"] not in lines[0] and case["dt"] not in lines[0])):
                out["cli"] = f"exit 2 without one line naming the file: {err.getvalue()!r}"[:300]
            else:
                out["cli"] = "ok" if code in (0, 2) else f"exit {code}"
        except BaseException as e:
            out["cli"] = f"{type(e).__name__}: {e}"[:300]
    print(json.dumps(out), flush=True)
"""


def run_cases(cases, tmp_path, batch=60):
    """Runs the cases in child processes; returns {label: outcome dict}; a crash is an outcome."""
    results = {}
    manifest = []
    for k, (g, d, label) in enumerate(cases):
        gp, dp = tmp_path / f"gt{k}.json", tmp_path / f"dt{k}.json"
        gp.write_bytes(g)
        dp.write_bytes(d)
        ious = ["bbox", "keypoints"] if ":kp-" in label else ["bbox", "segm"]
        manifest.append({"gt": str(gp), "dt": str(dp), "label": label, "cli": k % 4 == 0, "ious": ious})
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for start in range(0, len(manifest), batch):
        todo = manifest[start:start + batch]
        while todo:
            lines = "".join(json.dumps(c) + "\n" for c in todo)
            proc = subprocess.run([sys.executable, "-c", CHILD], input=lines, capture_output=True, text=True,
                                  cwd="/", timeout=600, env=env)
            done, current = set(), None
            for out in proc.stdout.splitlines():
                rec = json.loads(out)
                if "start" in rec:
                    current = rec["start"]
                else:
                    results[rec["label"]] = rec
                    done.add(rec["label"])
            if proc.returncode == 0:
                break
            # the child died (a crash) in `current`: record it and go on after it
            results[current] = {"label": current, "crash": f"exit {proc.returncode}: {proc.stderr[-400:]}"}
            done.add(current)
            todo = [c for c in todo if c["label"] not in done]
    return results


def _failures(results):
    bad = []
    for label, rec in results.items():
        for key in ("crash", "bbox", "segm", "keypoints", "cli"):
            if key in rec and rec[key] not in ("ok", "ValueError"):
                bad.append(f"{label} {key}: {rec[key]}")
    return bad


def _check(n, seed, tmp_path):
    cases = make_cases(n, seed)
    results = run_cases(cases, tmp_path)
    assert len(results) == n
    bad = _failures(results)
    assert not bad, f"{len(bad)} of {n} cases misbehaved:\n" + "\n".join(bad[:20])
    # the mutations must reach both outcomes, or the test proves little
    outcomes = {rec.get("bbox") for rec in results.values()}
    assert {"ok", "ValueError"} <= outcomes, outcomes


def test_hostile_coco_files(tmp_path):
    _check(N_CASES, 0, tmp_path)


@pytest.mark.slow
def test_hostile_coco_files_many(tmp_path):
    _check(3000, 1, tmp_path)


# --- the cases the fuzz run found first, pinned -----------------------------------------------

def _stats(C, E, g, d, iou):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        gt = C(g)
        e = E(gt, gt.loadRes(d), iou)
        e.evaluate()
        e.accumulate()
        e.summarize()
    return list(e.stats)


def test_duplicate_annotations_key_means_the_last_one(tmp_path):
    # The C++ reader used to keep both arrays while Python's json (segmentations) kept the last:
    # a heap over-read in segm evaluation and wrong bbox AP. Now the last one wins everywhere.
    from cvkernels.coco import COCO, COCOeval

    gt, dets = _base(0)
    text = json.dumps(gt)
    half = json.dumps(gt["annotations"][: len(gt["annotations"]) // 2])
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(text[:-1] + f', "annotations": {half}}}')
    d.write_text(json.dumps(dets))
    expected_gt = dict(gt, annotations=json.loads(half))
    e = tmp_path / "expected.json"
    e.write_text(json.dumps(expected_gt))
    for iou in ("bbox", "segm"):
        assert _stats(COCO, COCOeval, str(g), str(d), iou) == _stats(COCO, COCOeval, str(e), str(d), iou)
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval as PyCOCOeval

    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        theirs = _stats(PyCOCO, PyCOCOeval, str(g), str(d), "bbox")
    assert _stats(COCO, COCOeval, str(g), str(d), "bbox") == theirs


@pytest.mark.parametrize("content,match", [
    (b'{"images": [], "info": "\xff"}', "not valid JSON"),  # not UTF-8
    (b'{"images": [], "info": tru}', "not valid JSON"),  # a bad literal
    (b'{"images": [], "info": 01}', "not valid JSON"),  # a leading zero
    (b'{"images": [], "info": "a\x01b"}', "not valid JSON"),  # a control character
    (b'\xef\xbb\xbf{"images": []}', "not valid JSON"),  # a byte-order mark
    (b'{"images": [], "info": ' + b"[" * 100000 + b"]" * 100000 + b"}", "nested too deeply"),
    (b'{"images": [{"id": 1, "id": 2}], "annotations": [], "categories": []} x', "not valid JSON"),
])
def test_files_python_json_rejects_are_rejected(tmp_path, content, match):
    from cvkernels.coco import COCO

    p = tmp_path / "gt.json"
    p.write_bytes(content)
    with pytest.raises(ValueError, match=match) as err:
        COCO(str(p))
    assert not isinstance(err.value, UnicodeDecodeError)


def test_repeated_keys_inside_an_entry_mean_the_last_one(tmp_path):
    from cvkernels.coco import COCO

    p = tmp_path / "gt.json"
    p.write_text('{"images": [{"id": 1, "id": 2}], "annotations": [], "categories": [{"id": 3, "id": 4}]}')
    c = COCO(str(p))
    assert c.getImgIds() == [2] and c.getCatIds() == [4]


def test_a_folder_is_an_os_error(tmp_path):
    from cvkernels.coco import COCO

    with pytest.raises(IsADirectoryError):
        COCO(str(tmp_path))


def test_mixed_id_types_are_a_value_error():
    from cvkernels.coco import COCO, COCOeval

    gt = COCO({"images": [{"id": 1}, {"id": "b"}], "annotations": [], "categories": [{"id": 1}]})
    with pytest.raises(ValueError, match="all integers or all strings"):
        COCOeval(gt, gt, "bbox")
