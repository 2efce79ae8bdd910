"""The package itself: it runs without torch, it is the installed build, it never includes a
torch header, and the thread-count API behaves as documented."""

import os
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest

import cvkernels
from conftest import random_boxes, requires_torch, torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_numpy_path_works_where_torch_cannot_be_imported():
    code = """
import sys
sys.modules["torch"] = None  # any 'import torch' now raises ImportError
import numpy as np
import cvkernels
try:
    import torch
except ImportError:
    pass
else:
    raise SystemExit("torch was importable")
a = np.array([[0, 0, 2, 2]], np.float32)
b = np.array([[1, 1, 3, 3]], np.float32)
out = cvkernels.box_iou(a, b)
assert isinstance(out, np.ndarray) and abs(out[0, 0] - 1 / 7) < 1e-6, out
assert cvkernels.generalized_box_iou_loss(a, b, reduction="sum") > 0
assert cvkernels.get_num_threads() >= 1
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_tests_run_against_the_installed_package():
    # The source tree has no compiled _C, so importing cvkernels from it would fail; this
    # checks that pytest did not pick up the source tree by accident.
    assert pathlib.Path(cvkernels._C.__file__).exists()
    if os.environ.get("CVK_EXPECT_INSTALLED") == "1":
        assert "site-packages" in cvkernels.__file__, cvkernels.__file__


def test_no_torch_header_in_csrc():
    csrc = ROOT / "csrc"
    if not csrc.is_dir():
        pytest.skip("source tree not available")
    offenders = []
    for path in csrc.rglob("*"):
        if path.suffix in {".h", ".hpp", ".cpp", ".cu", ".cuh"}:
            for line in path.read_text().splitlines():
                s = line.strip()
                if s.startswith("#include") and any(k in s for k in ("torch/", "ATen/", "c10/", "<torch")):
                    offenders.append(f"{path}: {s}")
    assert offenders == []


def test_set_num_threads():
    cvkernels.set_num_threads(3)
    assert cvkernels.get_num_threads() == 3
    assert cvkernels._C.get_num_threads() == 3
    cvkernels.set_num_threads(None)
    assert cvkernels.get_num_threads() >= 1
    with pytest.raises(ValueError, match="n must be >= 1"):
        cvkernels.set_num_threads(0)
    with pytest.raises(TypeError, match="n must be an int"):
        cvkernels.set_num_threads(2.0)


def test_set_num_threads_beyond_the_machine_degrades_with_a_warning(rng):
    most = cvkernels._C.max_threads()
    assert 64 <= most <= 1024
    a, b = random_boxes(rng, 300), random_boxes(rng, 200)
    want = cvkernels.box_iou(a, b)
    try:
        with pytest.warns(RuntimeWarning, match=f"using {most} threads"):
            cvkernels.set_num_threads(100_000)
        assert cvkernels.get_num_threads() == most
        np.testing.assert_array_equal(cvkernels.box_iou(a, b), want)
    finally:
        cvkernels.set_num_threads(None)


def test_pool_keeps_the_threads_it_could_start():
    # Address space for only a few thread stacks: the pool starts what it can and runs the
    # work on those (it used to hang with a half-built pool).
    code = """
import resource, numpy as np, cvkernels
cvkernels._C.set_num_threads(1)
rng = np.random.default_rng(0)
a = rng.uniform(0, 100, (1000, 4)); a[:, 2:] += a[:, :2]
want = cvkernels.box_iou(a, a)
vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + (96 << 20), resource.RLIM_INFINITY))
cvkernels.set_num_threads(64)
got = cvkernels.box_iou(a, a)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
assert np.array_equal(got, want)
print("ok")
"""
    env = dict(os.environ, CVK_THREADS="pool")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


@requires_torch
def test_default_follows_torch():
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert cvkernels.get_num_threads() == 1
        cvkernels.box_iou(torch.zeros(2, 4), torch.zeros(2, 4))
        assert cvkernels._C.get_num_threads() == 1
    finally:
        torch.set_num_threads(old)


def test_concurrent_calls_from_threads_are_safe(rng):
    a = random_boxes(rng, 700, dtype=np.float32)
    b = random_boxes(rng, 600, dtype=np.float32)
    want = cvkernels.box_iou(a, b)
    cvkernels.set_num_threads(2)
    errors = []

    def work():
        try:
            for _ in range(5):
                np.testing.assert_array_equal(cvkernels.box_iou(a, b), want)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


@pytest.mark.parametrize("with_torch", [False, True])
def test_pool_survives_fork(rng, with_torch):
    """A forked child can run parallel kernels after the parent did, on our pool or (torch
    imported) on torch's OpenMP team: GNU OpenMP hangs in such a child, so there we use the pool."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    if with_torch and torch is None:
        pytest.skip("torch is not installed")
    a = random_boxes(rng, 500, dtype=np.float32)
    cvkernels.set_num_threads(2)
    want = cvkernels.box_iou(a, a)  # starts the pool in the parent
    code = ("import torch\n" if with_torch else "") + """
import os, sys, numpy as np, cvkernels
cvkernels.set_num_threads(2)
rng = np.random.default_rng(0)
xy = rng.uniform(0, 100, (500, 2)); b = np.concatenate([xy, xy + 5], 1).astype(np.float32)
cvkernels.box_iou(b, b)
pid = os.fork()
if pid == 0:
    out = cvkernels.box_iou(b, b)
    os._exit(0 if out.shape == (500, 500) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    assert res.returncode == 0, res.stderr
    assert want.shape == (500, 500)


def test_simd_level_reported():
    assert cvkernels._C.simd_level() in ("avx512", "avx2", "baseline")
    cvkernels._C.set_simd_enabled(False)
    try:
        assert cvkernels._C.simd_level() == "baseline"
    finally:
        cvkernels._C.set_simd_enabled(True)


def _stub_names(path):
    import ast

    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names - {"Buffer", "__all__"}


def test_typed_package_with_stubs_of_the_compiled_modules():
    pkg = pathlib.Path(cvkernels.__file__).parent
    assert (pkg / "py.typed").exists()
    public = {n for n in dir(cvkernels._C) if not n.startswith("_")}
    assert _stub_names(pkg / "_C.pyi") == public
    cuda = _stub_names(pkg / "_C_cuda.pyi")
    # the CUDA module shares the box, RoI, conv, mask and label-count entries of _C and has its NMS
    # blocks and the ranking scratch
    assert {"box_pairwise", "roi_align_forward", "conv2d_forward", "mask_binary_counts", "class_sums",
            "confusion_counts", "indicator_sums", "ranking_columns"} <= cuda & public
    assert {"nms_sorted", "soft_nms_segments", "greedy_sets", "ranking_columns_scratch"} <= cuda


def test_version_is_defined_once():
    from importlib.metadata import PackageNotFoundError, version

    try:
        assert version("cvkernels") == cvkernels.__version__
    except PackageNotFoundError:
        pytest.skip("cvkernels is imported from a folder, not an installed distribution")
    pyproject = ROOT / "pyproject.toml"
    if pyproject.exists():
        assert cvkernels.__version__ not in pyproject.read_text()


def test_consistent_arguments_across_paths():
    import cvkernels.mask  # noqa: F401  (also reachable as an attribute)

    assert cvkernels.mask.encode is not None
    p = np.zeros((1, 4, 4), np.int64)
    for bad in (-1, True, 0, 2.5):
        with pytest.raises(ValueError, match="num_classes"):
            cvkernels.dice_score(p, p, num_classes=bad)
        if torch is not None:
            with pytest.raises(ValueError, match="num_classes"):
                cvkernels.dice_score(torch.from_numpy(p), torch.from_numpy(p), num_classes=bad)
    # any nonzero value is foreground, 256 included (it used to wrap to 0 in uint8)
    m = np.zeros((4, 4), np.int64)
    m[1:3, 1:3] = 256
    assert cvkernels.mask.area(cvkernels.mask.encode(m)) == 4


def test_huge_output_arguments_raise_value_error():
    boxes = np.zeros((1, 2, 4), np.float32)
    scores = np.zeros((1, 2, 3), np.float32)
    x = np.zeros((1, 1, 4, 4), np.float32)
    rois = np.array([[0, 0, 0, 2, 2]], np.float32)
    calls = [lambda b, s, *_: cvkernels.multiclass_nms(b, s, max_total=2**62),
             lambda *_, x=x, r=rois: cvkernels.roi_align(x, r, (2**31, 2**31))]
    for call in calls:
        with pytest.raises(ValueError, match="cannot be allocated"):
            call(boxes, scores)
    if torch is not None:
        tb, ts = torch.from_numpy(boxes), torch.from_numpy(scores)
        with pytest.raises(ValueError, match="cannot be allocated"):
            cvkernels.multiclass_nms(tb, ts, max_total=2**62)
        with pytest.raises(ValueError, match="cannot be allocated"):
            cvkernels.roi_align(torch.from_numpy(x), torch.from_numpy(rois), (2**31, 2**31))


def test_bench_timer_alternates_and_reports_failures():
    # cvkernels bench times a case's implementations in alternating rounds: every
    # implementation runs in every round, a failing peer is reported and left out, and a
    # failure of cvkernels' own implementation is raised.
    from cvkernels.bench import OURS, time_impls

    calls = []
    impls = {OURS: lambda: calls.append("a"), "peer": lambda: calls.append("b"),
             "broken": lambda: 1 / 0}
    failed = []
    times = time_impls(impls, rounds=3, min_time=0.003, on_error=lambda label, e: failed.append((label, type(e))))
    assert set(times) == {OURS, "peer"} and all(t >= 0 for t in times.values())
    assert failed == [("broken", ZeroDivisionError)]
    switches = sum(x != y for x, y in zip(calls, calls[1:]))
    assert switches >= 2 * 3 - 1  # a, b, a, b, ... by bursts: at least one switch a round
    with pytest.raises(ZeroDivisionError):
        time_impls({OURS: lambda: 1 / 0, "peer": lambda: None}, rounds=1, min_time=0.001)
