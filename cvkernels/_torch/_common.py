"""What every torch op of cvkernels shares: the library object and the torch adapter."""

from __future__ import annotations

import torch

from .._launch.arrays import torch_arrays

lib = torch.library.Library("cvkernels", "DEF")
TORCH = torch_arrays()


def impl(name: str, fn) -> None:
    """Register fn as the CPU and CUDA kernel of cvkernels::name."""
    for dev in ("CPU", "CUDA"):
        lib.impl(name, fn, dev)

