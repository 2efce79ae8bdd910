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


# --- TEMPORARY: the raw-pointer helpers of the areas not yet moved to launchers -----------
from .. import _C, _threads  # noqa: E402
_FLOATS = (torch.float32, torch.float64)
_HALVES = (torch.float16, torch.bfloat16)


def compute_dtype(name: str, dtype: torch.dtype) -> torch.dtype:
    """float32/float64 as is; float16/bfloat16 in float32; integers and bool in float64."""
    if dtype in _FLOATS:
        return dtype
    if dtype in _HALVES:
        return torch.float32
    if dtype.is_complex or dtype.is_floating_point:
        raise TypeError(f"{name} must be a real float or integer tensor, got {dtype}")
    return torch.float64


def pair_dtypes(a: torch.Tensor, b: torch.Tensor):
    """(compute dtype, promoted input dtype) of two box tensors."""
    compute_dtype("boxes1", a.dtype)
    compute_dtype("boxes2", b.dtype)
    promoted = torch.promote_types(a.dtype, b.dtype)
    return compute_dtype("boxes", promoted), promoted


def check_same_device(**tensors) -> torch.device:
    items = list(tensors.items())
    dev = items[0][1].device
    for name, t in items[1:]:
        if t.device != dev:
            raise ValueError(
                f"{items[0][0]} and {name} must be on the same device, got {dev} and {t.device}"
            )
    return dev


def code(dtype: torch.dtype) -> int:
    return 0 if dtype == torch.float32 else 1


_cuda_mod = None


def kernels(device: torch.device):
    """The module holding the kernels for `device`: cvkernels._C or cvkernels._C_cuda."""
    if device.type == "cpu":
        _threads.sync()
        return _C
    if device.type == "cuda":
        global _cuda_mod
        if _cuda_mod is None:
            try:
                from .. import _C_cuda
            except ImportError as e:
                raise RuntimeError(
                    "cvkernels was built without CUDA kernels (rebuild with CVK_CUDA=ON)"
                ) from e
            _cuda_mod = _C_cuda
        return _cuda_mod
    raise ValueError(f"cvkernels has no kernels for device {device}")


def stream_args(device: torch.device):
    """Extra trailing argument the CUDA entry points take: the caller's current stream."""
    if device.type == "cuda":
        return (torch.cuda.current_stream(device).cuda_stream,)
    return ()
