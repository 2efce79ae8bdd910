"""The inputs of the mask metrics: formats, shapes, labels and the conversions both the CPU
launchers (masks.py) and the GPU side (masks_cuda.py) use.

Input formats (input_format="auto" picks from the shapes):
  binary   (N, H, W) or (N, 1, H, W) masks: nonzero is foreground (floats: > 0.5); one class.
  index    (N, H, W) integer label maps with num_classes classes.
  one-hot  (N, C, H, W): integers / bools are (multi-)hot planes; floats are scores and are
           turned into labels by argmax over C (as torchmetrics does).
  mixed    one side (N, C, H, W), the other (N, H, W) labels.
"""

from __future__ import annotations

from .. import _C

AVERAGES = ("micro", "macro", "none")
LEVELS = ("samplewise", "global")
FORMATS = ("auto", "binary", "index", "one-hot", "mixed")
ACTIVATIONS = {None: _C.DICE_ACTIVATIONS["none"], **_C.DICE_ACTIVATIONS}  # none / sigmoid / softmax, from C++
NO_IGNORE = -(2**62)  # ignore_index=None as the kernels take it


def check_num_classes(num_classes):
    """None or a positive int (a bool is not a class count)."""
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    return num_classes


def resolve_format(pshape, tshape, num_classes, input_format):
    """(format, N, C, size) for the two shapes, or a ValueError naming what is wrong."""
    if input_format not in FORMATS:
        raise ValueError(f"input_format must be one of {FORMATS}, got {input_format!r}")
    pshape, tshape = tuple(pshape), tuple(tshape)
    for name, s in (("preds", pshape), ("target", tshape)):
        if len(s) not in (3, 4):
            raise ValueError(f"{name} must have shape (N, H, W) or (N, C, H, W), got {s}")
    check_num_classes(num_classes)
    squeeze = lambda s: s[:1] + s[2:] if len(s) == 4 and s[1] == 1 else s  # noqa: E731
    fmt = input_format
    if fmt == "auto":
        p3, t3 = squeeze(pshape), squeeze(tshape)
        if len(p3) == 3 and len(t3) == 3:
            fmt = "index" if num_classes is not None and num_classes > 1 else "binary"
        elif len(pshape) == 4 and len(tshape) == 4:
            fmt = "one-hot"
        else:
            fmt = "mixed"
    if fmt == "binary":
        p3, t3 = squeeze(pshape), squeeze(tshape)
        if p3 != t3 or len(p3) != 3:
            raise ValueError(f"binary masks must both be (N, H, W) or (N, 1, H, W), got {pshape} and {tshape}")
        return fmt, p3[0], 1, p3[1] * p3[2]
    if fmt == "index":
        if pshape != tshape or len(pshape) != 3:
            raise ValueError(f"label maps must both be (N, H, W), got {pshape} and {tshape}")
        if num_classes is None:
            raise ValueError("num_classes is needed for label maps (input_format='index')")
        return fmt, pshape[0], num_classes, pshape[1] * pshape[2]
    if fmt == "one-hot":
        if pshape != tshape or len(pshape) != 4:
            raise ValueError(f"one-hot inputs must both be (N, C, H, W), got {pshape} and {tshape}")
        if num_classes is not None and num_classes != pshape[1]:
            raise ValueError(f"num_classes={num_classes} does not match the {pshape[1]} channels of preds")
        return fmt, pshape[0], pshape[1], pshape[2] * pshape[3]
    four, three = (pshape, tshape) if len(pshape) == 4 else (tshape, pshape)
    if len(four) != 4 or len(three) != 3 or four[:1] + four[2:] != three:
        raise ValueError(f"mixed inputs must be (N, C, H, W) and (N, H, W), got {pshape} and {tshape}")
    if num_classes is not None and num_classes != four[1]:
        raise ValueError(f"num_classes={num_classes} does not match the {four[1]} channels")
    return "mixed", four[0], four[1], three[1] * three[2]


def dice_dims(input_shape, target_shape, target_is_labels):
    """(N, C, size, labels) for input (N, C, ...) and target (N, ...) labels or (N, C, ...)."""
    input_shape, target_shape = tuple(input_shape), tuple(target_shape)
    if len(input_shape) < 3:
        raise ValueError(f"input must have shape (N, C, H, W) (or (N, C, L)), got {input_shape}")
    N, C = input_shape[:2]
    if C < 1:
        raise ValueError(f"input must have at least one channel (class), got shape {input_shape}")
    size = 1
    for d in input_shape[2:]:
        size *= d
    if target_is_labels:
        if target_shape != (N,) + input_shape[2:]:
            raise ValueError(f"integer target must have shape {(N,) + input_shape[2:]} to match input {input_shape}, "
                             f"got {target_shape}")
        return N, C, size, True
    if target_shape != input_shape:
        raise ValueError(f"dense target must have the input's shape {input_shape}, got {target_shape}")
    return N, C, size, False


def u8(xp, x):
    """0/1 (nonzero) bytes of a mask, contiguous: nonzero for integers and bools, > 0.5 for floats."""
    if x.dtype == xp.bool or x.dtype == xp.uint8:
        return xp.as_bytes(x)
    return xp.as_bytes(x > 0.5 if xp.is_float(x.dtype) else x != 0)


def labels(xp, name, x):
    if not xp.is_integer(x.dtype):
        raise TypeError(f"{name} label maps must be integers, got dtype {x.dtype}")
    return xp.contiguous(x, xp.int64)


def argmax(xp, x):
    """(N, ...) int64 index of the largest channel of (N, C, ...) scores (first on ties)."""
    ct = xp.compute_dtype("preds", x.dtype)
    x = xp.contiguous(x, ct)
    out = xp.empty((x.shape[0],) + tuple(x.shape[2:]), xp.int64, x)
    xp.kernels(x).mask_argmax(xp.view(x), xp.view(out), xp.stream(x))
    return out


def dice_spec(xp, input, target):
    """(N, C, size, target_is_labels) after checking input (N, C, ...) and target."""
    xp.same_device(input=input, target=target)
    xp.compute_dtype("input", input.dtype)
    if not xp.is_float(input.dtype):
        raise TypeError(f"input must be floating, got dtype {input.dtype}")
    is_labels = xp.is_integer(target.dtype) and target.ndim == input.ndim - 1
    return dice_dims(input.shape, target.shape, is_labels)


def check_labels(xp, lab, C, ignore_index):
    """ValueError naming the first label outside [0, C) that is not ignore_index."""
    bad = ((lab < 0) | (lab >= C)) & (lab != ignore_index)
    if bool(bad.any()):
        raise ValueError(f"target label {int(lab[bad].reshape(-1)[0])} is outside [0, {C}) and is not ignore_index")
