"""torch.library registration of the cvkernels operators (torch.ops.cvkernels.*).

Importing this package imports torch; the numpy path never does. cvkernels registers the ops
when it is imported after torch, and otherwise on the first call with a tensor; call
cvkernels.register_torch_ops() to have torch.ops.cvkernels.* before that.
"""

from __future__ import annotations

_registered = False


def ensure_registered() -> None:
    global _registered
    if _registered:
        return
    from . import boxes, conv, decode, losses, masks, nms, roi  # noqa: F401  (define the ops at import)
    from . import script

    script.attach()  # torch.jit.script of a public function compiles its TorchScript version
    _registered = True
