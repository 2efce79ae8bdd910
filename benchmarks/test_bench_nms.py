"""pytest-benchmark view of the NMS cases of `cvkernels bench` (cvkernels/bench/nms.py)."""

import pytest

from cvkernels.bench import nms

CASES = nms.cases(quick=False)
PARAMS = [pytest.param(c.name, label, fn, id=f"{c.name} | {label}") for c in CASES for label, fn in c.impls.items()]


@pytest.mark.parametrize("case,impl,fn", PARAMS)
def test_nms(benchmark, case, impl, fn):
    benchmark.group = case
    benchmark(fn)
