"""COCO-format keypoint datasets as top-down person samples (one sample per ground-truth box).

The persons and boxes are exactly those validation uses (:func:`pose.evaluation.gt_person_boxes`, mmpose
0.16 ``TopDownCocoDataset``): non-crowd persons with a labelled keypoint, boxes cleaned to the image, or
MPII-style ``center`` / ``scale`` crops. Each box becomes a crop center and size at the model's aspect
ratio, with an optional center jitter. Works for any keypoint set: the dataset's keypoint count must
match the :class:`~pose.skeleton.Skeleton` the model predicts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pose.evaluation import gt_person_boxes, load_coco_annotations
from pose.evaluation.annotations import keypoint_names, num_keypoints
from pose.skeleton import Skeleton
from pose.transforms import PADDING, box_to_center_size

log = logging.getLogger(__name__)


class DatasetError(ValueError):
    """A dataset that cannot be used: missing path, wrong keypoint count, no usable person."""


@dataclass(frozen=True)
class PersonSample:
    """One annotated person, ready to be cropped.

    Attributes:
        image_path: the image file.
        image_id, annotation_id: ids in the annotation file.
        center: ``(2,)`` float32 crop center, image pixels.
        size: ``(2,)`` float32 crop ``(width, height)`` in image pixels, aspect-fixed and padded.
        keypoints: ``(K, 2)`` float32 keypoint ``(x, y)``, image pixels (0 where unlabelled).
        visible: ``(K,)`` float32, 1 for labelled keypoints (COCO v > 0), else 0.
    """

    image_path: Path
    image_id: int
    annotation_id: int
    center: np.ndarray
    size: np.ndarray
    keypoints: np.ndarray
    visible: np.ndarray


def check_keypoint_set(dataset: dict[str, Any], skeleton: Skeleton, path: Path) -> None:
    """The dataset must have as many keypoints as the skeleton; differing names are only logged.

    Raises:
        DatasetError: the counts differ.
    """
    count = num_keypoints(dataset)
    if count != skeleton.num_keypoints:
        raise DatasetError(
            f"annotation file '{path}' has {count} keypoints per person but the model predicts "
            f"{skeleton.num_keypoints} ({skeleton.name!r}); set [data] skeleton to the dataset's keypoint set"
        )
    names = keypoint_names(dataset)
    if names and names != skeleton.keypoints:
        differing = [(a, b) for a, b in zip(names, skeleton.keypoints, strict=True) if a != b]
        log.warning("%s: keypoint names differ from skeleton %r: %s", path, skeleton.name, differing[:4])


def load_person_samples(
    annotation_file: Path,
    images_dir: Path,
    skeleton: Skeleton,
    *,
    aspect_ratio: float,
    padding: float = PADDING,
    jitter_prob: float = 0.0,
    jitter: float = 0.0,
    seed: int = 0,
) -> list[PersonSample]:
    """Top-down samples from the ground-truth boxes of a COCO-format keypoint file.

    With probability ``jitter_prob`` a center moves by ``U(-jitter, jitter)`` times the box width and
    height, drawn once here from ``seed`` (as mmpose 0.16 does when it builds its index).

    Raises:
        DatasetError: missing file or folder, keypoint-count mismatch, no usable person.
        pose.evaluation.AnnotationError: a malformed annotation file (both are ValueErrors).
    """
    if not annotation_file.is_file():
        raise DatasetError(f"annotation file '{annotation_file}' not found: check [data] root, *_annotations")
    if not images_dir.is_dir():
        raise DatasetError(f"image folder '{images_dir}' not found: check [data] root, *_images")
    dataset = load_coco_annotations(annotation_file)
    check_keypoint_set(dataset, skeleton, annotation_file)
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    boxes, records = [], []
    for image in gt_person_boxes(dataset):
        for box, annotation_id in zip(image.boxes, image.annotation_ids, strict=True):
            keypoints = _keypoints(annotations[int(annotation_id)], skeleton.num_keypoints, annotation_file)
            boxes.append(box)
            records.append((images_dir / image.file_name, image.image_id, int(annotation_id), keypoints))
    if not records:
        raise DatasetError(f"annotation file '{annotation_file}' has no person with labelled keypoints")
    boxes_xyxy = np.stack(boxes)
    centers, sizes = box_to_center_size(boxes_xyxy, aspect_ratio=aspect_ratio, padding=padding)
    centers = centers + _center_jitter(boxes_xyxy[:, 2:] - boxes_xyxy[:, :2], jitter_prob, jitter, seed)
    log.info("%s: %d persons in %d images", annotation_file, len(records), len({r[1] for r in records}))
    return [
        PersonSample(
            image_path=path,
            image_id=image_id,
            annotation_id=annotation_id,
            center=centers[i].astype(np.float32),
            size=sizes[i].astype(np.float32),
            keypoints=keypoints[:, :2].copy(),
            visible=(keypoints[:, 2] > 0).astype(np.float32),
        )
        for i, (path, image_id, annotation_id, keypoints) in enumerate(records)
    ]


def _keypoints(annotation: dict[str, Any], count: int, path: Path) -> np.ndarray:
    """``(K, 3)`` float32 ``(x, y, v)`` of one annotation, checked against the expected count."""
    values = annotation["keypoints"]
    if not isinstance(values, list) or len(values) != 3 * count:
        size = len(values) if isinstance(values, list) else type(values).__name__
        raise DatasetError(
            f"annotation {annotation['id']} in '{path}' has {size} keypoint values, "
            f"expected 3 x {count} = {3 * count}"
        )
    try:
        return np.asarray(values, dtype=np.float32).reshape(count, 3)
    except (TypeError, ValueError):
        raise DatasetError(f"annotation {annotation['id']} in '{path}' has non-numeric keypoints") from None


def _center_jitter(box_sizes: np.ndarray, prob: float, jitter: float, seed: int) -> np.ndarray:
    """``(N, 2)`` center offsets in pixels: 0, or with ``prob`` ``U(-jitter, jitter) * (w, h)`` of the box."""
    rng = np.random.default_rng(seed)
    count = len(box_sizes)
    moved = rng.random(count) < prob
    offsets = (rng.random((count, 2)) * 2.0 - 1.0) * jitter * box_sizes
    return offsets * moved[:, None]
