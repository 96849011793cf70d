"""Validation during training, through the same :class:`TopDownEstimator` and evaluator as ``main.py eval``.

Scored on ground-truth boxes (mmpose's in-training ``use_gt_bbox=True``): OKS AP for COCO-style sets,
PCKh for MPII.
"""

from __future__ import annotations

import torch
from torch import nn

from pose.estimator import TopDownEstimator
from pose.evaluation import evaluate
from pose.train.config import TrainConfig

PRIMARY_METRIC = {"coco": "AP", "pckh": "PCKh"}
"""The metric that selects the best checkpoint, per ``[data] metric``."""


def validate(
    model: nn.Module, config: TrainConfig, device: torch.device, progress: bool = False
) -> dict[str, float]:
    """Validation metrics of ``model`` in percent (left in train mode afterwards).

    Returns:
        ``{"AP": ..., "AP50": ..., ..., "AR": ...}`` for ``coco`` (area ranges without ground truth are
        left out) or ``{"PCKh": ..., "PCKh@0.1": ...}`` for ``pckh``.
    """
    data = config.data
    # float32 even on CUDA: the estimator would otherwise convert the training model to float16 in place.
    estimator = TopDownEstimator(model, device, flip=config.train.flip_test, half=False)
    try:
        report = evaluate(
            estimator, data.path(data.val_annotations), data.path(data.val_images),
            boxes="gt", progress=progress, metric=data.metric,
        )
    finally:
        model.train()
    return {name: 100.0 * value for name, value in report.stats.items() if value >= 0}
