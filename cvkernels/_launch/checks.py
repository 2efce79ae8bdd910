"""Argument checks every launcher shares. Each raises TypeError or ValueError naming the
argument and what was expected."""

from __future__ import annotations

import math

REDUCTIONS = ("none", "mean", "sum")


def last_dim(name: str, shape, allowed_ndims=None, last=4) -> None:
    """ValueError unless shape is (..., last) with ndim in allowed_ndims."""
    shape = tuple(shape)
    if len(shape) == 0 or shape[-1] != last or (allowed_ndims and len(shape) not in allowed_ndims):
        if allowed_ndims:
            want = " or ".join(
                "(" + ", ".join(["N"] * (d - 1) + [str(last)]).replace("N, N", "B, N") + ")" for d in allowed_ndims
            )
        else:
            want = f"(..., {last})"
        raise ValueError(f"{name} must have shape {want}, got {shape}")


def number(name: str, value, positive: bool = False, allow_nan: bool = False) -> float:
    """A real number (int or float, not bool) as float; NaN rejected unless allow_nan."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) and not allow_nan:
        raise ValueError(f"{name} must be a number, got nan")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def integer(name: str, value, minimum=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def int_pair(name: str, v, minimum: int):
    """(a, b) from an int or a pair of ints, each >= minimum."""
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


def choice(name: str, value, options):
    """value if it is one of options (a tuple, or a dict whose value is returned)."""
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return options[value] if isinstance(options, dict) else value


def reduction(value) -> str:
    if value not in REDUCTIONS:  # torchvision's wording, which its callers' tests match
        raise ValueError(f"Invalid Value for arg 'reduction': {value!r}; supported reduction modes: 'none', 'mean', 'sum'")
    return value
