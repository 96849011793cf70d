"""Heatmap regression loss of the Lite/Dite-HRNet recipe (mmpose ``JointsMSELoss``)."""

from __future__ import annotations

import torch
from torch import nn


class JointsMSELoss(nn.Module):
    """Mean squared error between predicted and target heatmaps, masked per keypoint.

    For each keypoint ``k`` the loss is ``mean((pred_k * w_k - target_k * w_k) ** 2)`` over batch and
    pixels, and the result is the mean over keypoints. Unlike the original HRNet code there is no 0.5
    factor (mmpose 0.x).
    """

    def __init__(self, use_target_weight: bool = True) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor, target_weight: torch.Tensor) -> torch.Tensor:
        """Scalar loss.

        Args:
            pred, target: ``(B, K, H, W)`` heatmaps.
            target_weight: ``(B, K)`` (or ``(B, K, 1)``) weight per keypoint, 0 for unlabelled ones.
        """
        if pred.shape != target.shape:
            raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ")
        squared = (pred.float() - target.float()) ** 2
        if self.use_target_weight:
            weight = target_weight.float().reshape(*target_weight.shape[:2], 1, 1)
            squared = squared * weight**2
        return squared.mean()
