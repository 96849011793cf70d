"""Evaluate a TopDownEstimator on a COCO-format set: predict per image, then score (COCO AP/AR or PCKh)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from tqdm import tqdm

from pose.estimator import TopDownEstimator
from pose.evaluation.annotations import (
    PERSON_CATEGORY,
    AnnotationError,
    ImageBoxes,
    detection_person_boxes,
    gt_person_boxes,
    keypoint_names,
    load_coco_annotations,
    num_keypoints,
)
from pose.evaluation.coco_metric import coco_keypoint_stats
from pose.evaluation.nms import oks_nms, rescore
from pose.evaluation.pckh import TORSO_ENDS, counted_joints, pck, pckh, torso_sizes
from pose.transforms import PADDING, box_to_center_size

logger = logging.getLogger(__name__)

Metric = Literal["coco", "pckh"]


@dataclass(frozen=True)
class ImagePredictions:
    """The poses predicted in one image, one per box.

    Attributes:
        image_id: COCO image id.
        keypoints: ``(n, K, 2)`` float32 image pixels.
        keypoint_scores: ``(n, K)`` float32 heatmap maxima.
        box_scores: ``(n,)`` box confidences (1 for ground-truth boxes).
        areas: ``(n,)`` crop width x height in square pixels (the instance area of OKS-NMS).
        annotation_ids: ``(n,)`` ground-truth annotation id of each box, -1 for detections.
    """

    image_id: int
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    box_scores: np.ndarray
    areas: np.ndarray
    annotation_ids: np.ndarray


@dataclass(frozen=True)
class EvalReport:
    """What an evaluation measured.

    Attributes:
        metric: ``"coco"`` or ``"pckh"``.
        stats: for COCO ``AP, AP50, AP75, APM, APL, AR, AR50, AR75, ARM, ARL`` and, on ground-truth boxes with
            torso labels, ``PCK@0.2`` of the torso diameter (fractions; -1 where no ground
            truth falls in the area range); for PCKh ``PCKh`` (at 0.5) and ``PCKh@0.1`` (fractions).
        num_images: images the estimator ran on.
        num_instances: poses scored (after OKS-NMS for COCO).
        results: the scored poses in COCO results format (``image_id, category_id, keypoints, score``;
            PCKh results also carry ``annotation_id``).
        mean_keypoint_scores: ``(P,)`` each person's mean keypoint score, one per box the estimator ran
            on (before any OKS-NMS): on ground-truth boxes, what score thresholds are measured from
            (:func:`pose.evaluation.score_thresholds.thresholds_from_scores`).
    """

    metric: Metric
    stats: dict[str, float]
    num_images: int
    num_instances: int
    results: tuple[dict[str, Any], ...]
    mean_keypoint_scores: np.ndarray


def predict(
    estimator: TopDownEstimator,
    image_boxes: Sequence[ImageBoxes],
    images_dir: str | os.PathLike[str],
    progress: bool = True,
) -> list[ImagePredictions]:
    """Run the estimator on every image that has boxes.

    Raises:
        FileNotFoundError: the images directory or an image file is missing or unreadable.
    """
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise FileNotFoundError(f"images directory '{images_dir}' not found")
    predictions = []
    for entry in tqdm(image_boxes, desc="eval", unit="img", disable=not progress):
        path = images_dir / entry.file_name
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"image '{path}' (id {entry.image_id}) is missing or not an image")
        pose = estimator(image, entry.boxes)
        _, sizes = box_to_center_size(entry.boxes, estimator.spec.aspect_ratio, PADDING)
        predictions.append(
            ImagePredictions(
                image_id=entry.image_id,
                keypoints=pose.keypoints,
                keypoint_scores=pose.scores,
                box_scores=entry.scores,
                areas=sizes.prod(axis=1),
                annotation_ids=entry.annotation_ids,
            )
        )
    return predictions


def _result(image_id: int, keypoints: np.ndarray, scores: np.ndarray, score: float) -> dict[str, Any]:
    triplets = np.concatenate([keypoints, scores[:, None]], axis=1).astype(np.float64)
    return {
        "image_id": int(image_id),
        "category_id": PERSON_CATEGORY,
        "keypoints": [round(value, 3) for value in triplets.ravel().tolist()],
        "score": float(score),
    }


def coco_results(predictions: Sequence[ImagePredictions], sigmas: Sequence[float]) -> list[dict[str, Any]]:
    """COCO keypoint results after mmpose's rescoring and per-image OKS-NMS (threshold 0.9)."""
    results = []
    for image in predictions:
        scores = rescore(image.box_scores, image.keypoint_scores)
        for index in oks_nms(image.keypoints, scores, image.areas, np.asarray(sigmas)):
            results.append(_result(image.image_id, image.keypoints[index], image.keypoint_scores[index],
                                   scores[index]))
    return results


def people_results(
    image_id: int, keypoints: np.ndarray, keypoint_scores: np.ndarray, scores: np.ndarray
) -> list[dict[str, Any]]:
    """COCO keypoint results of a system that finds people itself (bottom-up): one per person with the
    system's own person ``scores`` ``(n,)``, no rescoring or NMS; ``keypoints`` ``(n, K, 2)`` image pixels,
    ``keypoint_scores`` ``(n, K)``."""
    return [_result(image_id, points, point_scores, float(score))
            for points, point_scores, score in zip(keypoints, keypoint_scores, scores, strict=True)]


def pckh_results(
    dataset: dict[str, Any], predictions: Sequence[ImagePredictions]
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """PCKh@0.5 and @0.1 of predictions made on ground-truth boxes; annotations need ``head_box``.

    Reads from each annotation ``keypoints`` (``[x, y, v] * K``, 0-based pixels, ``v > 0`` labelled) and
    ``head_box`` (``[x1, y1, x2, y2]``, the MPII head rectangle).
    """
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    predicted, truth, visible, heads, results = [], [], [], [], []
    for image in predictions:
        for index, annotation_id in enumerate(image.annotation_ids):
            annotation = annotations.get(int(annotation_id))
            if annotation is None:
                raise AnnotationError("PCKh needs ground-truth boxes (--boxes gt), not detections")
            if "head_box" not in annotation:
                raise AnnotationError(f"annotation {annotation_id} lacks 'head_box' [x1, y1, x2, y2] (PCKh)")
            labels = np.asarray(annotation["keypoints"], dtype=np.float64).reshape(-1, 3)
            predicted.append(image.keypoints[index])
            truth.append(labels[:, :2])
            visible.append(labels[:, 2] > 0)
            heads.append(annotation["head_box"])
            result = _result(image.image_id, image.keypoints[index], image.keypoint_scores[index],
                             float(image.keypoint_scores[index].mean()))
            results.append({**result, "annotation_id": int(annotation_id)})
    if not predicted:
        return {"PCKh": 0.0, "PCKh@0.1": 0.0}, results
    names = keypoint_names(dataset)
    counted = counted_joints(names) if names else None
    arrays = (np.stack(predicted), np.stack(truth), np.stack(visible), np.asarray(heads, dtype=np.float64))
    at_half, _ = pckh(*arrays, threshold=0.5, counted=counted)
    at_tenth, _ = pckh(*arrays, threshold=0.1, counted=counted)
    return {"PCKh": at_half, "PCKh@0.1": at_tenth}, results


TORSO_PCK_THRESHOLD = 0.2


def torso_pck(
    dataset: dict[str, Any], predictions: Sequence[ImagePredictions], threshold: float = TORSO_PCK_THRESHOLD
) -> float | None:
    """PCK at ``threshold`` x torso diameter (LSP's PCK@0.2) of predictions made on ground-truth boxes.

    Persons without both torso ends labelled are left out; None when no person qualifies, when the
    keypoints have no names with the torso ends, or when the boxes are detections.
    """
    names = keypoint_names(dataset)
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    pairs = [(image.keypoints[index], annotations.get(int(annotation_id)))
             for image in predictions for index, annotation_id in enumerate(image.annotation_ids)]
    if not pairs or any(annotation is None for _, annotation in pairs) or not set(TORSO_ENDS) <= set(names):
        return None
    labels = np.stack([np.reshape(annotation["keypoints"], (-1, 3)) for _, annotation in pairs]).astype(float)
    sizes = torso_sizes(labels[..., :2], labels[..., 2] > 0, names)
    kept = ~np.isnan(sizes)
    if not kept.any():
        return None
    predicted = np.stack([keypoints for keypoints, _ in pairs])[kept]
    return pck(predicted, labels[kept, :, :2], labels[kept, :, 2] > 0, sizes[kept], threshold)[0]


def evaluate(
    estimator: TopDownEstimator,
    ann_file: str | os.PathLike[str],
    images_dir: str | os.PathLike[str],
    boxes: str | os.PathLike[str] = "gt",
    progress: bool = True,
    metric: Metric = "coco",
) -> EvalReport:
    """Predict on every annotated image and score the predictions.

    Args:
        estimator: the estimator to evaluate (the same object the app runs).
        ann_file: COCO-format keypoint annotations.
        images_dir: directory the annotations' ``file_name`` entries are relative to.
        boxes: ``"gt"`` for ground-truth person boxes, or a COCO results file of person detections.
        progress: show a progress bar over images.
        metric: ``"coco"`` (AP/AR with rescoring and OKS-NMS) or ``"pckh"`` (MPII-style annotations).

    Raises:
        FileNotFoundError: missing annotation file, detections file, images directory or image.
        AnnotationError: malformed files, or a keypoint count the model does not predict.
    """
    dataset = load_coco_annotations(ann_file)
    expected = estimator.spec.num_keypoints
    if num_keypoints(dataset) not in (0, expected):
        raise AnnotationError(
            f"annotation file '{ann_file}' has {num_keypoints(dataset)} keypoints per person but model "
            f"{estimator.spec.name!r} predicts {expected}"
        )
    if str(boxes) == "gt":
        image_boxes = gt_person_boxes(dataset)
    elif metric == "pckh":
        raise AnnotationError("PCKh is measured on ground-truth boxes; use --boxes gt")
    else:
        image_boxes = detection_person_boxes(dataset, boxes)
    logger.info("evaluating on %d images, %d boxes", len(image_boxes), sum(len(b.boxes) for b in image_boxes))
    predictions = predict(estimator, image_boxes, images_dir, progress)
    if metric == "pckh":
        stats, results = pckh_results(dataset, predictions)
    else:
        sigmas = estimator.spec.skeleton.oks_sigmas
        results = coco_results(predictions, sigmas)
        stats = coco_keypoint_stats(dataset, results, sigmas)
        torso = torso_pck(dataset, predictions) if str(boxes) == "gt" else None
        if torso is not None:
            stats["PCK@0.2"] = torso
    mean_scores = [prediction.keypoint_scores.mean(axis=1) for prediction in predictions]
    return EvalReport(metric, stats, len(predictions), len(results), tuple(results),
                      np.concatenate(mean_scores) if mean_scores else np.zeros(0))
