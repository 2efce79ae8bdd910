"""pytest-benchmark view of the RLE and segm cases of `cvkernels bench` (cvkernels/bench/rle.py)."""

import pytest

from cvkernels.bench import rle

CASES = rle.cases(quick=False)
PARAMS = [pytest.param(c.name, label, fn, id=f"{c.name} | {label}") for c in CASES for label, fn in c.impls.items()]


@pytest.mark.parametrize("case,impl,fn", PARAMS)
def test_rle(benchmark, case, impl, fn):
    benchmark.group = case
    benchmark(fn)
