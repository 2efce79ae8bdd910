"""Pieces every public function shares: the compiled module, array-type detection, argument
checks and the dtype rules. Nothing here imports torch."""

from __future__ import annotations

import sys

import numpy as np

from . import _C  # noqa: F401  (the compiled CPU kernels)
from . import _threads

# dtype codes understood by the kernels (csrc/common/cvk.h).
FLOAT32, FLOAT64 = 0, 1


def torch_module():
    """The torch module if the caller's process has imported it, else None (never imports)."""
    return sys.modules.get("torch")


def is_tensor(x) -> bool:
    torch = torch_module()
    return torch is not None and isinstance(x, torch.Tensor)


def use_torch(*xs) -> bool:
    """True when any argument is a torch.Tensor: the call then goes through torch.ops."""
    if not any(is_tensor(x) for x in xs):
        return False
    from . import _torch  # registers torch.ops.cvkernels.* on first use

    _torch.ensure_registered()
    return True


def check_last_dim(name: str, shape, allowed_ndims=None, last=4) -> None:
    """ValueError unless shape is (..., last) with ndim in allowed_ndims."""
    shape = tuple(shape)
    if len(shape) == 0 or shape[-1] != last or (allowed_ndims and len(shape) not in allowed_ndims):
        if allowed_ndims:
            want = " or ".join(
                "(" + ", ".join(["N"] * (d - 1) + [str(last)]).replace("N, N", "B, N") + ")"
                for d in allowed_ndims
            )
        else:
            want = f"(..., {last})"
        raise ValueError(f"{name} must have shape {want}, got {shape}")


def int_pair(name: str, v, minimum: int):
    """(a, b) from an int or a pair of ints, each >= minimum; TypeError / ValueError naming
    the argument otherwise."""
    if isinstance(v, int) and not isinstance(v, bool):
        v = (v, v)
    try:
        a, b = v
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}") from None
    for e in (a, b):
        if isinstance(e, bool) or not isinstance(e, int):
            raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")
        if e < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {v!r}")
    return int(a), int(b)


def np_float_dtype(name: str, dtype) -> np.dtype:
    """The dtype a numpy input is computed in: float32/float64 as given, float16 in float32,
    integers and bools in float64. Anything else is a TypeError."""
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype == np.float16:
        return np.dtype(np.float32)
    if dtype.kind in "iub":
        return np.dtype(np.float64)
    raise TypeError(f"{name} must be a float or integer array, got dtype {dtype}")


def as_numpy(name: str, x) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception as e:  # noqa: BLE001
        raise TypeError(f"{name} must be a numpy array or torch.Tensor, got {type(x).__name__}") from e


def code_of(np_or_torch_dtype) -> int:
    name = str(np_or_torch_dtype)
    if name.endswith("float32"):
        return FLOAT32
    if name.endswith("float64"):
        return FLOAT64
    raise TypeError(f"internal: no kernel for dtype {np_or_torch_dtype}")


def sync_threads() -> None:
    _threads.sync()
