"""Metrics.

Classification metrics under scikit-learn's names, arguments and values (numpy or torch
inputs; no torch needed): accuracy_score, top_k_accuracy_score, balanced_accuracy_score,
precision_recall_fscore_support, precision_score, recall_score, f1_score, fbeta_score,
confusion_matrix, multilabel_confusion_matrix, roc_auc_score, roc_curve,
precision_recall_curve, average_precision_score (see .classification); panoptic_quality
(panopticapi's PQ, see cvkernels.panoptic).

Metric classes for training loops (torch). MeanAveragePrecision: torchmetrics'
MeanAveragePrecision (constructor arguments, update inputs, compute keys and values) on
cvkernels' COCO evaluation; DiceScore and MeanIoU: torchmetrics.segmentation's, on cvkernels'
mask counts. When torchmetrics is installed they are torchmetrics Metrics (state synchronised
across processes by torchmetrics, Lightning logging); without it, plain objects with update /
compute / reset. They import torch when first used."""

from .classification import (UndefinedMetricWarning, accuracy_score, average_precision_score,
                             balanced_accuracy_score, confusion_matrix, f1_score, fbeta_score,
                             multilabel_confusion_matrix, precision_recall_curve, precision_recall_fscore_support,
                             precision_score, recall_score, roc_auc_score, roc_curve, top_k_accuracy_score)

from ..panoptic import panoptic_quality

_TORCH_CLASSES = {"MeanAveragePrecision": ".detection", "DiceScore": ".segmentation", "MeanIoU": ".segmentation"}

__all__ = sorted(["UndefinedMetricWarning", "accuracy_score", "average_precision_score", "balanced_accuracy_score",
                  "confusion_matrix", "f1_score", "fbeta_score", "multilabel_confusion_matrix",
                  "precision_recall_curve", "precision_recall_fscore_support", "precision_score", "recall_score",
                  "roc_auc_score", "roc_curve", "top_k_accuracy_score", "panoptic_quality", *_TORCH_CLASSES])


def __getattr__(name):
    if name in _TORCH_CLASSES:
        import importlib

        return getattr(importlib.import_module(_TORCH_CLASSES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
