"""pytest-benchmark view of the RoI cases of `cvkernels bench` (cvkernels/bench/roi.py)."""

import pytest

from cvkernels.bench import roi

CASES = roi.cases(quick=False)
PARAMS = [pytest.param(c.name, label, fn, id=f"{c.name} | {label}") for c in CASES for label, fn in c.impls.items()]


@pytest.mark.parametrize("case,impl,fn", PARAMS)
def test_roi(benchmark, case, impl, fn):
    benchmark.group = case
    benchmark(fn)
