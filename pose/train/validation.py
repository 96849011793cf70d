"""Validation during training, through the same :class:`TopDownEstimator` and evaluator as ``main.py eval``.

COCO-style sets are scored with OKS AP on ground-truth boxes (mmpose's in-training ``use_gt_bbox=True``);
MPII with PCKh on the annotated boxes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from pose.estimator import TopDownEstimator
from pose.skeleton import SKELETONS, Skeleton
from pose.train.config import TrainConfig
from pose.train.datasets import DatasetError, read_annotation_file
from pose.train.pckh import pckh

PRIMARY_METRIC = {"coco_ap": "AP", "pckh": "PCKh"}
"""The metric that selects the best checkpoint, per ``[data] metric``."""


def validate(model: nn.Module, config: TrainConfig, device: torch.device) -> dict[str, float]:
    """Validation metrics of ``model`` (left in train mode afterwards).

    Returns:
        ``{"AP": ..., "AP50": ..., ...}`` for ``coco_ap`` or ``{"PCKh": ..., "PCKh@0.1": ...}`` for ``pckh``,
        all in percent.
    """
    data = config.data
    annotations, images = data.path(data.val_annotations), data.path(data.val_images)
    estimator = TopDownEstimator(model, device, flip=config.train.flip_test, half=False)
    try:
        if data.metric == "pckh":
            return validate_pckh(estimator, annotations, images, SKELETONS[data.skeleton])
        return validate_coco_ap(estimator, annotations, images)
    finally:
        model.train()


def validate_coco_ap(estimator: TopDownEstimator, annotations: Path, images: Path) -> dict[str, float]:
    """OKS AP (percent) of ``estimator`` on the ground-truth boxes of a COCO-format file."""
    from pose.evaluation import evaluate

    report = evaluate(estimator, annotations, images, boxes="gt")
    return {name: 100.0 * value for name, value in report.metrics().items()}


def validate_pckh(
    estimator: TopDownEstimator, annotations: Path, images: Path, skeleton: Skeleton
) -> dict[str, float]:
    """PCKh@0.5 and @0.1 (percent) on the annotated boxes; annotations need ``head_box`` (see mpii.py)."""
    content = read_annotation_file(annotations)
    files = {image["id"]: image["file_name"] for image in content["images"]}
    by_image = defaultdict(list)
    for ann in content["annotations"]:
        if "head_box" not in ann:
            raise DatasetError(
                f"annotation {ann.get('id')} in '{annotations}' has no 'head_box', which PCKh needs: convert "
                "the validation set with `python -m pose.train.mpii ... --gt-mat mpii_gt_val.mat`"
            )
        by_image[ann["image_id"]].append(ann)
    predicted, truth, visible, heads = [], [], [], []
    for image_id, anns in by_image.items():
        path = images / files[image_id]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(f"cannot read validation image '{path}'")
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)])
        predicted.append(estimator(image, boxes).keypoints)
        keypoints = np.array([a["keypoints"] for a in anns], dtype=np.float64).reshape(len(anns), -1, 3)
        truth.append(keypoints[:, :, :2])
        visible.append(keypoints[:, :, 2] > 0)
        heads.append(np.array([a["head_box"] for a in anns], dtype=np.float64))
    report = pckh(
        np.concatenate(predicted), np.concatenate(truth), np.concatenate(visible), np.concatenate(heads),
        skeleton,
    )
    return {"PCKh": report.pckh, "PCKh@0.1": report.pckh_at_0_1}
