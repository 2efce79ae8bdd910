"""What the public functions share: picking the path. A call with any torch.Tensor argument
goes through torch.ops.cvkernels (registered on first use), the other arguments becoming
tensors on that tensor's device; otherwise every argument becomes a numpy array for the numpy
launcher. Nothing here imports torch."""

from __future__ import annotations

import functools
import sys

import numpy as np


class InputError(ValueError, RuntimeError):
    """Bad input (a shape, a value, an option): a ValueError, as cvkernels documents, that is
    also a RuntimeError, what torchvision raises, so that callers written for either catch it."""


class InputTypeError(TypeError, RuntimeError):
    """An argument of the wrong type or dtype: a TypeError that is also a RuntimeError."""


def public(fn):
    """The wrapper of every public op: under torch.fx symbolic tracing a call with a Proxy
    becomes one call_function node (the op is a leaf, as torchvision's ops are); ValueError and
    TypeError leave as InputError / InputTypeError (also RuntimeErrors)."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        torch = sys.modules.get("torch")
        if torch is not None and torch.compiler.is_compiling():  # dynamo traces the op itself
            return fn(*args, **kwargs)
        proxy = _fx_proxy(args, kwargs)
        if proxy is not None:
            return proxy.tracer.create_proxy("call_function", op, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except (InputError, InputTypeError):
            raise
        except ValueError as e:
            raise InputError(*e.args).with_traceback(e.__traceback__) from None
        except TypeError as e:
            raise InputTypeError(*e.args).with_traceback(e.__traceback__) from None

    return op


def _fx_proxy(args, kwargs):
    """The first torch.fx.Proxy among the arguments (and the entries of a list argument)."""
    fx = sys.modules.get("torch.fx")
    if fx is None:
        return None
    Proxy = fx.Proxy
    for a in (*args, *kwargs.values()) if kwargs else args:
        if isinstance(a, Proxy):
            return a
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], Proxy):
            return a[0]
    return None


def tensors(*xs):
    """None when no argument is a torch.Tensor; else all of them as tensors (None stays None)
    on the first tensor's device, with torch.ops.cvkernels registered."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    Tensor = torch.Tensor
    ref = None
    for x in xs:
        if isinstance(x, Tensor):
            ref = x
            break
    if ref is None:
        return None
    from . import _torch

    _torch.ensure_registered()
    return tuple(x if x is None or isinstance(x, Tensor) else torch.as_tensor(x, device=ref.device) for x in xs)


def ops():
    """torch.ops.cvkernels (call after tensors() returned a tuple)."""
    return sys.modules["torch"].ops.cvkernels


def is_tensor(x) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def array(name: str, x) -> np.ndarray:
    """x as a numpy array; TypeError naming the argument if it cannot be one."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x
    try:
        a = np.asarray(x)
    except Exception as e:  # noqa: BLE001
        raise TypeError(f"{name} must be a numpy array or torch.Tensor, got {type(x).__name__}") from e
    if a.dtype == object:
        raise TypeError(f"{name} must be a numeric array or torch.Tensor, got {type(x).__name__} of objects")
    return a


def torch_module():
    """The torch module if the process has imported it, else None (never imports)."""
    return sys.modules.get("torch")


def use_torch(*xs) -> bool:
    """True (and torch.ops.cvkernels registered) when any argument is a torch.Tensor."""
    if not any(is_tensor(x) for x in xs):
        return False
    from . import _torch

    _torch.ensure_registered()
    return True
