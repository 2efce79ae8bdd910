"""Every docstring example (>>>) of the package runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import cvkernels

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(cvkernels.__path__, "cvkernels.") if not m.name.endswith(("_C", "_C_cuda"))
)
NEEDS_TORCH = ("cvkernels._torch", "cvkernels.nn", "cvkernels.metrics.detection", "cvkernels.metrics.segmentation",
               "cvkernels._launch.nms_cuda",
               "cvkernels._launch.masks_cuda")


def test_the_package_has_examples():
    examples = 0
    for name in MODULES:
        if name.startswith(NEEDS_TORCH):
            continue
        for t in doctest.DocTestFinder().find(importlib.import_module(name)):
            examples += len(t.examples)
    assert examples >= 30


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name.startswith(NEEDS_TORCH):
        pytest.importorskip("torch")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (see the output)"
