"""pytest-benchmark view of the dilated conv and ASPP cases of `cvkernels bench` (cvkernels/bench/conv.py)."""

import pytest

from cvkernels.bench import conv

CASES = conv.cases(quick=False)
PARAMS = [pytest.param(c.name, label, fn, id=f"{c.name} | {label}") for c in CASES for label, fn in c.impls.items()]


@pytest.mark.parametrize("case,impl,fn", PARAMS)
def test_conv(benchmark, case, impl, fn):
    benchmark.group = case
    benchmark(fn)
