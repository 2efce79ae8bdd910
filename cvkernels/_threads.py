"""Thread count of the CPU kernels.

By default cvkernels uses torch.get_num_threads() when torch has been imported in the process
(so it follows torch.set_num_threads), else the number of CPUs this process may run on.
cvkernels.set_num_threads(n) overrides both until called again with None.
"""

from __future__ import annotations

import os
import sys
import warnings

from . import _C

_user_threads = None
_applied = None


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_num_threads(n) -> None:
    """Set the number of threads the CPU kernels use (an int >= 1), or None for the default.

    Example:
        >>> import cvkernels
        >>> cvkernels.set_num_threads(2)
        >>> cvkernels.get_num_threads()
        2
        >>> cvkernels.set_num_threads(None)
    """
    global _user_threads
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int >= 1 or None, got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if n > _C.max_threads():
            warnings.warn(f"cvkernels.set_num_threads({n}): using {_C.max_threads()} threads, the most this "
                          "machine is given (8 per CPU, 64 to 1024)", RuntimeWarning, stacklevel=2)
            n = _C.max_threads()
    _user_threads = n
    sync()


def get_num_threads() -> int:
    """The number of threads the next CPU kernel call will use."""
    if _user_threads is not None:
        return _user_threads
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_num_threads"):
        return min(int(torch.get_num_threads()), _C.max_threads())
    return _cpu_count()


def sync() -> None:
    """Push the current thread count to the kernels (cheap; called before each kernel)."""
    global _applied
    n = get_num_threads()
    if n != _applied:
        _C.set_num_threads(n)
        _applied = n
