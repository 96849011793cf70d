"""COCO keypoint AP/AR with pycocotools (OKS with the skeleton's sigmas), from mmpose-style results."""

from __future__ import annotations

import contextlib
import copy
import io
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

COCO_STATS = ("AP", "AP50", "AP75", "APM", "APL", "AR", "AR50", "AR75", "ARM", "ARL")
"""Names of ``COCOeval.stats`` for keypoints, in order (OKS thresholds 0.5:0.95; M/L = medium/large area)."""


def coco_keypoint_stats(
    dataset: dict[str, Any], results: Sequence[dict[str, Any]], sigmas: Sequence[float]
) -> dict[str, float]:
    """Run ``COCOeval(..., 'keypoints')`` with ``kpt_oks_sigmas = sigmas``.

    Args:
        dataset: the COCO-format annotation dict (ground truth).
        results: COCO keypoint results, ``{"image_id", "category_id", "keypoints": [x, y, s] * K, "score"}``.
        sigmas: ``(K,)`` per-keypoint OKS sigmas.

    Returns:
        ``{name: value}`` for :data:`COCO_STATS`, fractions in [0, 1]; -1 where pycocotools finds no
        ground truth in the area range. All zeros when there are no results.
    """
    if not results:
        logger.warning("no predictions to evaluate; every COCO metric is 0")
        return dict.fromkeys(COCO_STATS, 0.0)
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):  # pycocotools prints progress and its table
        ground_truth = COCO()
        ground_truth.dataset = dataset
        ground_truth.createIndex()
        predicted = ground_truth.loadRes(copy.deepcopy(list(results)))
        evaluator = COCOeval(ground_truth, predicted, "keypoints")
        evaluator.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    logger.debug("pycocotools output:\n%s", summary.getvalue())
    return {name: float(value) for name, value in zip(COCO_STATS, evaluator.stats, strict=True)}
