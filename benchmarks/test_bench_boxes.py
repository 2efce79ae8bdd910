"""pytest-benchmark view of the same cases `cvkernels bench` runs (cvkernels/bench/boxes.py).

    pytest benchmarks/ --benchmark-group-by=param:case
"""

import pytest

from cvkernels.bench import boxes

CASES = boxes.cases(quick=False)
PARAMS = [pytest.param(c.name, label, fn, id=f"{c.name} | {label}") for c in CASES for label, fn in c.impls.items()]


@pytest.mark.parametrize("case,impl,fn", PARAMS)
def test_boxes(benchmark, case, impl, fn):
    benchmark.group = case
    benchmark(fn)
