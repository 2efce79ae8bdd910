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
