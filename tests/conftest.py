import os

import numpy as np
import pytest

import cvkernels

try:
    import torch
except ImportError:  # the numpy-only tests still run
    torch = None
else:
    cvkernels.register_torch_ops()  # cvkernels was imported first: register explicitly


def random_boxes(rng, n, scale=100.0, dtype=np.float64, batch=None):
    """(n, 4) or (batch, n, 4) valid xyxy boxes with positive size."""
    shape = (n, 2) if batch is None else (batch, n, 2)
    xy = rng.uniform(0, scale, size=shape)
    wh = rng.uniform(0.5, scale / 3, size=shape)
    return np.concatenate([xy, xy + wh], axis=-1).astype(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _restore_threads():
    yield
    cvkernels.set_num_threads(None)
    cvkernels._C.set_simd_enabled(True)


requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
requires_cuda = pytest.mark.skipif(
    torch is None or not torch.cuda.is_available(), reason="needs a CUDA GPU"
)


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` (large fuzz and parity runs) run with `-m slow` or CVK_SLOW=1."""
    if "slow" in (config.getoption("markexpr") or "") or os.environ.get("CVK_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow (or CVK_SLOW=1)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
