"""pytest-benchmark view of the mask cases of `cvkernels bench` (cvkernels/bench/masks.py)."""

import pytest

from cvkernels.bench import masks

CASES = masks.cases(quick=False)
PARAMS = [pytest.param(c.name, label, fn, id=f"{c.name} | {label}") for c in CASES for label, fn in c.impls.items()]


@pytest.mark.parametrize("case,impl,fn", PARAMS)
def test_masks(benchmark, case, impl, fn):
    benchmark.group = case
    benchmark(fn)
