"""DiceScore with torchmetrics.segmentation.DiceScore's interface and values: per sample and
class, numerator 2|P ∩ T|, denominator |P| + |T| and support |T| are counted by cvkernels' mask
kernel (one pass, no one-hot tensors) and stored; compute() applies torchmetrics' reduction
(global or per sample; micro, macro, weighted or none; 0 / 0 is NaN and left out of means)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .._launch.mask_inputs import NO_IGNORE
from .detection import _Base


def _safe_divide(num: Tensor, den: Tensor) -> Tensor:
    num, den = num.float(), den.float()
    return torch.where(den != 0, num / den, torch.tensor(float("nan"), dtype=num.dtype, device=num.device))


class DiceScore(_Base):
    """torchmetrics.segmentation.DiceScore: same arguments (``num_classes``,
    ``include_background``, ``average`` "micro" / "macro" / "weighted" / "none",
    ``aggregation_level`` "samplewise" / "global", ``input_format`` "one-hot" / "index" /
    "mixed"; score maps are turned into labels by argmax), update(preds, target), compute().

    Example:
        >>> import torch
        >>> from cvkernels.metrics import DiceScore
        >>> m = DiceScore(num_classes=3, input_format="index")
        >>> m.update(torch.tensor([[[0, 1], [2, 2]]]), torch.tensor([[[0, 1], [1, 2]]]))
        >>> round(float(m.compute()), 4)
        0.7778
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, num_classes: int, include_background: bool = True, average: str = "macro",
                 aggregation_level: str = "samplewise", input_format: str = "one-hot", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"Expected argument `num_classes` to be a positive integer, got {num_classes}")
        if average not in ("micro", "macro", "weighted", "none", None):
            raise ValueError(f"Expected argument `average` to be one of micro, macro, weighted, none, got {average}")
        if aggregation_level not in ("samplewise", "global"):
            raise ValueError(f"Expected argument `aggregation_level` to be samplewise or global, got {aggregation_level}")
        if input_format not in ("one-hot", "index", "mixed"):
            raise ValueError(f"Expected argument `input_format` to be one-hot, index or mixed, got {input_format}")
        if not isinstance(include_background, bool):
            raise ValueError(f"Expected argument `include_background` to be a bool, got {include_background}")
        self.num_classes, self.include_background = num_classes, include_background
        self.average, self.aggregation_level, self.input_format = average, aggregation_level, input_format
        for name in ("numerator", "denominator", "support"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Count one batch ((N, C, ...) one-hot or score maps, or (N, ...) label maps)."""
        inter, psum, tsum = torch.ops.cvkernels.mask_counts(preds, target, self.num_classes, self.input_format,
                                                            NO_IGNORE)
        if not self.include_background:
            inter, psum, tsum = inter[:, 1:], psum[:, 1:], tsum[:, 1:]
        self.numerator.append(2 * inter)
        self.denominator.append(psum + tsum)
        self.support.append(tsum)

    def compute(self) -> Tensor:
        num, den = torch.cat(list(self.numerator)), torch.cat(list(self.denominator))
        sup = torch.cat(list(self.support))
        if self.aggregation_level == "global":
            num, den, sup = num.sum(0).unsqueeze(0), den.sum(0).unsqueeze(0), sup.sum(0)
        if self.average == "micro":
            return _safe_divide(num.sum(-1), den.sum(-1)).nanmean(dim=0)
        dice = _safe_divide(num, den)
        if self.average == "macro":
            return torch.nanmean(dice, dim=-1).nanmean(dim=0)
        if self.average == "weighted":
            weights = _safe_divide(sup, sup.sum(dim=-1, keepdim=True))
            undefined = dice.isnan().all(dim=-1)
            dice = torch.nansum(dice * weights, dim=-1)
            dice[undefined] = torch.nan
            return dice.nanmean(dim=0)
        return dice.nanmean(dim=0)


class MeanIoU(_Base):
    """torchmetrics.segmentation.MeanIoU: same arguments (``num_classes``, ``include_background``,
    ``per_class``, ``input_format``) and values: each update adds, per class present (union > 0),
    the per-sample IoU and a count; compute() divides (per class, -1 where a class never
    appeared; else their mean). Intersections and unions come from cvkernels' mask kernel.

    Example:
        >>> import torch
        >>> from cvkernels.metrics import MeanIoU
        >>> m = MeanIoU(num_classes=3, input_format="index")
        >>> m.update(torch.tensor([[[0, 1], [2, 2]]]), torch.tensor([[[0, 1], [1, 2]]]))
        >>> round(float(m.compute()), 4)
        0.6667
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, num_classes=None, include_background: bool = True, per_class: bool = False,
                 input_format: str = "one-hot", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f"Expected argument `num_classes` to be a positive integer, got {num_classes}")
        if input_format not in ("one-hot", "index", "mixed"):
            raise ValueError(f"Expected argument `input_format` to be one-hot, index or mixed, got {input_format}")
        if input_format == "index" and num_classes is None:
            raise ValueError("Argument `num_classes` must be provided when `input_format` is 'index'.")
        self.num_classes, self.include_background = num_classes, include_background
        self.per_class, self.input_format = per_class, input_format
        self._initialized = False
        if num_classes is not None:
            self._init_states(num_classes)

    def _init_states(self, num_classes):
        out = num_classes - (0 if self.include_background else 1)
        self.add_state("score", default=torch.zeros(out if self.per_class else 1), dist_reduce_fx="sum")
        self.add_state("num_batches", default=torch.zeros(out), dist_reduce_fx="sum")
        self._initialized = True

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add one batch ((N, C, ...) one-hot or score maps, or label maps)."""
        if not self._initialized:  # as torchmetrics: the classes from the one-hot side
            self.num_classes = preds.shape[1] if preds.dim() >= target.dim() else target.shape[1]
            self._init_states(self.num_classes)
        if self.input_format != "one-hot":  # torchmetrics reads a 1-D / 2-D label map as one sample
            preds = preds.reshape(1, 1, -1) if preds.dim() == 1 else preds.unsqueeze(0) if preds.dim() == 2 else preds
            target = target.reshape(1, 1, -1) if target.dim() == 1 else target.unsqueeze(0) if target.dim() == 2 \
                else target
        inter, psum, tsum = torch.ops.cvkernels.mask_counts(preds, target, self.num_classes, self.input_format,
                                                            NO_IGNORE)
        if not self.include_background:
            inter, psum, tsum = inter[:, 1:], psum[:, 1:], tsum[:, 1:]
        union = psum + tsum - inter
        score = torch.where(union != 0, inter.float() / union.float(), torch.tensor(0.0))
        valid = union > 0
        if self.per_class:
            self.score += (score * valid).sum(dim=0)
            self.num_batches += valid.sum(dim=0)
        else:
            self.score += (score * valid).sum()
            self.num_batches += valid.sum()

    def compute(self) -> Tensor:
        out = self.score / self.num_batches
        return out.nan_to_num(-1.0) if self.per_class else out.nanmean()
