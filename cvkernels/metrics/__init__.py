"""Metric classes for training loops (torch). MeanAveragePrecision: torchmetrics'
MeanAveragePrecision (constructor arguments, update inputs, compute keys and values) on
cvkernels' COCO evaluation; DiceScore and MeanIoU: torchmetrics.segmentation's, on cvkernels'
mask counts. When torchmetrics is installed it is a torchmetrics Metric (state
synchronised across processes by torchmetrics, Lightning logging); without it, a plain object
with update / compute / reset."""

from .detection import MeanAveragePrecision
from .segmentation import DiceScore, MeanIoU

__all__ = ["DiceScore", "MeanAveragePrecision", "MeanIoU"]
