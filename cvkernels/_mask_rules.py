"""Input formats and argument rules of the mask metrics, shared by numpy and torch paths.

Formats (input_format="auto" picks from the shapes):
  binary   (N, H, W) or (N, 1, H, W) masks: nonzero is foreground (floats: > 0.5); one class.
  index    (N, H, W) integer label maps with num_classes classes.
  one-hot  (N, C, H, W): integers / bools are (multi-)hot planes; floats are scores and are
           turned into labels by argmax over C (as torchmetrics does).
  mixed    one side (N, C, H, W), the other (N, H, W) labels.
"""

from __future__ import annotations

AVERAGES = ("micro", "macro", "none")
LEVELS = ("samplewise", "global")
FORMATS = ("auto", "binary", "index", "one-hot", "mixed")


def resolve_format(pshape, tshape, num_classes, input_format):
    """(format, N, C, size) for the two shapes, or a ValueError naming what is wrong."""
    if input_format not in FORMATS:
        raise ValueError(f"input_format must be one of {FORMATS}, got {input_format!r}")
    pshape, tshape = tuple(pshape), tuple(tshape)
    for name, s in (("preds", pshape), ("target", tshape)):
        if len(s) not in (3, 4):
            raise ValueError(f"{name} must have shape (N, H, W) or (N, C, H, W), got {s}")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
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


def check_average(average, aggregation_level):
    if average is None:
        average = "none"
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    if aggregation_level not in LEVELS:
        raise ValueError(f"aggregation_level must be one of {LEVELS}, got {aggregation_level!r}")
    return average
