"""COCO-format keypoint datasets as top-down person samples (one sample per ground-truth box).

Reads the annotation json without pycocotools (so errors can name what is wrong), keeps the persons mmpose
0.16 keeps (a box, at least one labelled keypoint, a box with positive area after cleaning) and turns each
box into a crop center and size. Works for any keypoint set: the dataset's keypoint count must match the
:class:`~pose.skeleton.Skeleton` the model predicts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pose.skeleton import Skeleton
from pose.transforms import PADDING, box_to_center_size

log = logging.getLogger(__name__)


class DatasetError(ValueError):
    """A dataset that cannot be used: missing path, malformed annotations, wrong keypoint count."""


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


def clean_box(box: tuple[float, float, float, float], width: int, height: int) -> np.ndarray | None:
    """mmpose's COCO box cleaning: clip the top-left corner to the image, the bottom-right to ``W-1, H-1``.

    Args:
        box: ``(x, y, w, h)`` in image pixels, as in COCO annotations.
        width, height: image size in pixels.

    Returns:
        ``(4,)`` float64 ``(x1, y1, x2, y2)``, or None if nothing with positive area is left.
    """
    x, y, w, h = box
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(width - 1.0, x1 + max(0.0, w - 1.0))
    y2 = min(height - 1.0, y1 + max(0.0, h - 1.0))
    if x2 <= x1 or y2 <= y1:
        return None
    return np.array([x1, y1, x2, y2])


def read_annotation_file(path: Path) -> dict[str, Any]:
    """The parsed json, checked for the COCO keypoint layout.

    Raises:
        DatasetError: missing file, invalid json, or missing ``images`` / ``annotations`` / ``categories``.
    """
    if not path.is_file():
        raise DatasetError(f"annotation file '{path}' does not exist: check [data] root and *_annotations")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"annotation file '{path}' is not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise DatasetError(f"annotation file '{path}' must hold a JSON object in COCO keypoint format")
    for key in ("images", "annotations", "categories"):
        if not isinstance(content.get(key), list):
            raise DatasetError(f"annotation file '{path}' is not COCO keypoint format: no '{key}' list")
    return content


def dataset_keypoint_names(content: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """Keypoint names of the person category (``categories[i].keypoints``)."""
    for category in content["categories"]:
        if isinstance(category, dict) and isinstance(category.get("keypoints"), list):
            return tuple(str(name) for name in category["keypoints"])
    raise DatasetError(f"annotation file '{path}' has no category with a 'keypoints' list")


def check_keypoint_set(names: tuple[str, ...], skeleton: Skeleton, path: Path) -> None:
    """The dataset must have as many keypoints as the skeleton; differing names are only logged."""
    if len(names) != skeleton.num_keypoints:
        raise DatasetError(
            f"annotation file '{path}' has {len(names)} keypoints per person but the model predicts "
            f"{skeleton.num_keypoints} ({skeleton.name!r}); set [data] skeleton to the dataset's keypoint set"
        )
    if names != skeleton.keypoints:
        differing = [(a, b) for a, b in zip(names, skeleton.keypoints, strict=True) if a != b]
        log.warning("%s: keypoint names differ from skeleton %r: %s", path, skeleton.name, differing[:4])


def load_person_samples(
    annotation_file: Path,
    images_dir: Path,
    skeleton: Skeleton,
    *,
    aspect_ratio: float,
    padding: float = PADDING,
    clean_boxes: bool = True,
    jitter_prob: float = 0.0,
    jitter: float = 0.0,
    seed: int = 0,
) -> list[PersonSample]:
    """Top-down samples from the ground-truth boxes of a COCO-format keypoint file.

    Keeps annotations with a ``bbox`` and at least one labelled keypoint; with ``clean_boxes`` the box is
    cleaned as :func:`clean_box` and dropped if nothing is left. With probability ``jitter_prob`` a center
    moves by ``U(-jitter, jitter)`` times the box width and height, drawn once here (as mmpose 0.16 does
    when it builds its index) from ``seed``.

    Raises:
        DatasetError: missing files or folders, malformed annotations, keypoint-count mismatch.
    """
    content = read_annotation_file(annotation_file)
    if not images_dir.is_dir():
        raise DatasetError(f"image folder '{images_dir}' does not exist: check [data] root and *_images")
    check_keypoint_set(dataset_keypoint_names(content, annotation_file), skeleton, annotation_file)
    images = _image_table(content["images"], annotation_file)
    count = skeleton.num_keypoints
    boxes, records = [], []
    for ann in content["annotations"]:
        parsed = _parse_annotation(ann, count, annotation_file)
        if parsed is None:
            continue
        ann_id, image_id, box, keypoints = parsed
        if image_id not in images:
            raise DatasetError(f"annotation {ann_id} in '{annotation_file}' names unknown image {image_id}")
        file_name, width, height = images[image_id]
        x, y, w, h = box
        xyxy = clean_box(box, width, height) if clean_boxes else np.array([x, y, x + w, y + h])
        if xyxy is None:
            continue
        boxes.append(xyxy)
        records.append((images_dir / file_name, image_id, ann_id, keypoints))
    if not records:
        raise DatasetError(f"annotation file '{annotation_file}' has no person with labelled keypoints")
    boxes_xyxy = np.stack(boxes)
    centers, sizes = box_to_center_size(boxes_xyxy, aspect_ratio=aspect_ratio, padding=padding)
    centers = centers + _center_jitter(boxes_xyxy[:, 2:] - boxes_xyxy[:, :2], jitter_prob, jitter, seed)
    log.info("%s: %d persons in %d images", annotation_file, len(records), len(images))
    return [
        PersonSample(
            image_path=path,
            image_id=image_id,
            annotation_id=ann_id,
            center=centers[i].astype(np.float32),
            size=sizes[i].astype(np.float32),
            keypoints=keypoints[:, :2].copy(),
            visible=(keypoints[:, 2] > 0).astype(np.float32),
        )
        for i, (path, image_id, ann_id, keypoints) in enumerate(records)
    ]


def _center_jitter(box_sizes: np.ndarray, prob: float, jitter: float, seed: int) -> np.ndarray:
    """``(N, 2)`` center offsets in pixels: 0, or with ``prob`` ``U(-jitter, jitter) * (w, h)`` of the box."""
    rng = np.random.default_rng(seed)
    count = len(box_sizes)
    moved = rng.random(count) < prob
    offsets = (rng.random((count, 2)) * 2.0 - 1.0) * jitter * box_sizes
    return offsets * moved[:, None]


def _image_table(images: list[Any], path: Path) -> dict[int, tuple[str, int, int]]:
    table = {}
    for image in images:
        try:
            table[int(image["id"])] = (str(image["file_name"]), int(image["width"]), int(image["height"]))
        except (KeyError, TypeError, ValueError):
            raise DatasetError(
                f"image entry {image!r} in '{path}' needs 'id', 'file_name', 'width' and 'height'"
            ) from None
    return table


def _parse_annotation(
    ann: Any, count: int, path: Path
) -> tuple[int, int, tuple[float, float, float, float], np.ndarray] | None:
    """``(id, image_id, box xywh, keypoints (K, 3))``, or None for a person mmpose skips."""
    if not isinstance(ann, dict):
        raise DatasetError(f"annotation {ann!r} in '{path}' is not an object")
    if "bbox" not in ann or "keypoints" not in ann:
        return None
    ann_id = ann.get("id")
    values = ann["keypoints"]
    if not isinstance(values, list) or len(values) != 3 * count:
        size = len(values) if isinstance(values, list) else type(values).__name__
        raise DatasetError(
            f"annotation {ann_id} in '{path}' has {size} keypoint values, expected 3 x {count} = {3 * count}"
        )
    try:
        keypoints = np.asarray(values, dtype=np.float32).reshape(count, 3)
        box = tuple(float(v) for v in ann["bbox"])
        image_id = int(ann["image_id"])
    except (KeyError, TypeError, ValueError):
        raise DatasetError(
            f"annotation {ann_id} in '{path}' needs numeric 'keypoints', a 4-number 'bbox' and 'image_id'"
        ) from None
    if len(box) != 4:
        raise DatasetError(f"annotation {ann_id} in '{path}' has bbox {ann['bbox']!r}, expected [x, y, w, h]")
    if ann.get("num_keypoints", 1) == 0 or not (keypoints[:, 2] > 0).any():
        return None
    if "area" in ann and not float(ann["area"]) > 0:
        return None
    return int(ann_id) if ann_id is not None else -1, image_id, box, keypoints
