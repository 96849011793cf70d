"""Reading COCO-format keypoint annotations and person boxes (ground truth or a detections file).

Boxes follow mmpose 0.x ``TopDownCocoDataset``:

* Ground truth: non-crowd person annotations with at least one labelled keypoint. The box ``[x, y, w, h]``
  is cleaned as mmpose does (``x1 = max(0, x)``, ``x2 = min(W - 1, x1 + max(0, w - 1))``, likewise y; kept
  if ``x2 > x1``, ``y2 > y1`` and ``area > 0``) and gets score 1.
* Detections: a COCO results file (a list of ``{"image_id", "category_id", "bbox": [x, y, w, h],
  "score"}``); ``category_id == 1`` only, every score kept (``det_bbox_thr = 0``).

MPII-style annotations may carry ``"center": [x, y]`` and ``"scale": s`` (MPII's person scale, box
side / 200, 0-based pixels); the box is then the square of side ``200 s`` centred at
``(x, y + 15 s)``, as mmpose's MPII dataset crops it (the 1.25 padding is added later, for every box).
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

PERSON_CATEGORY = 1


class AnnotationError(ValueError):
    """An annotation or detections file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ImageBoxes:
    """The person boxes of one image, as the estimator takes them.

    Attributes:
        image_id: COCO image id.
        file_name: image path relative to the images directory.
        boxes: ``(n, 4)`` float64 ``(x1, y1, x2, y2)`` image pixels.
        scores: ``(n,)`` float64 box confidences (1 for ground truth).
        annotation_ids: ``(n,)`` int64 id of the ground-truth annotation of each box, -1 for detections.
    """

    image_id: int
    file_name: str
    boxes: np.ndarray
    scores: np.ndarray
    annotation_ids: np.ndarray


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Parsed JSON of ``path``; FileNotFoundError or AnnotationError naming ``what`` and the path."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} '{path}' not found")
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AnnotationError(f"{what} '{path}' is not valid JSON: {error}") from error


def load_coco_annotations(path: str | os.PathLike[str], needs: Iterable[str] = ()) -> dict[str, Any]:
    """A COCO-format keypoint annotation file, checked for the parts evaluation needs and for the
    annotation fields in ``needs`` (e.g. ``("bbox", "area")`` for training on its persons)."""
    dataset = read_json(path, "annotation file")
    if not isinstance(dataset, dict):
        raise AnnotationError(f"annotation file '{path}' must hold a JSON object with images and annotations")
    for key in ("images", "annotations", "categories"):
        if not isinstance(dataset.get(key), list):
            raise AnnotationError(f"annotation file '{path}' has no '{key}' list; is it in COCO format?")
    required = {"id", "image_id", "category_id", "keypoints", *needs}
    for annotation in dataset["annotations"]:
        missing = required - annotation.keys()
        if missing:
            raise AnnotationError(
                f"annotation file '{path}': annotation {annotation.get('id', '?')} lacks {sorted(missing)}"
            )
    return dataset


def keypoint_names(dataset: dict[str, Any]) -> tuple[str, ...]:
    """Keypoint names of the person category (an empty tuple when the file does not list them)."""
    for category in dataset["categories"]:
        if category.get("id") == PERSON_CATEGORY:
            return tuple(category.get("keypoints", ()))
    return ()


def num_keypoints(dataset: dict[str, Any]) -> int:
    """Keypoints per person: from the category, else from the first annotation."""
    names = keypoint_names(dataset)
    if names:
        return len(names)
    annotations = dataset["annotations"]
    return len(annotations[0]["keypoints"]) // 3 if annotations else 0


def _image_index(dataset: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {image["id"]: image for image in dataset["images"]}


def _gt_box(annotation: dict[str, Any], width: float, height: float) -> np.ndarray | None:
    """Cleaned ``(x1, y1, x2, y2)`` of a ground-truth person, or None when mmpose would drop it."""
    if "center" in annotation and "scale" in annotation:
        cx, cy = annotation["center"]
        half = 100.0 * annotation["scale"]
        cy += 15.0 * annotation["scale"]
        return np.array([cx - half, cy - half, cx + half, cy + half])
    if "bbox" not in annotation:
        return None
    x, y, w, h = annotation["bbox"]
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(width - 1, x1 + max(0.0, w - 1))
    y2 = min(height - 1, y1 + max(0.0, h - 1))
    if annotation.get("area", 1) <= 0 or x2 <= x1 or y2 <= y1:
        return None
    return np.array([x1, y1, x2, y2], dtype=np.float64)


def _has_keypoints(annotation: dict[str, Any]) -> bool:
    return max(annotation["keypoints"], default=0) > 0 and annotation.get("num_keypoints", 1) > 0


_Entry = tuple[np.ndarray, float, int]
"""One box: ``(x1, y1, x2, y2)``, score, ground-truth annotation id (-1 for a detection)."""


def _per_image(images: dict[int, dict[str, Any]], entries: dict[int, list[_Entry]]) -> list[ImageBoxes]:
    """ImageBoxes for every image that has boxes, in annotation-file order."""
    return [
        ImageBoxes(
            image_id=image_id,
            file_name=image["file_name"],
            boxes=np.array([box for box, _, _ in entries[image_id]], dtype=np.float64).reshape(-1, 4),
            scores=np.array([score for _, score, _ in entries[image_id]], dtype=np.float64),
            annotation_ids=np.array([ann_id for _, _, ann_id in entries[image_id]], dtype=np.int64),
        )
        for image_id, image in images.items()
        if entries.get(image_id)
    ]


def gt_person_boxes(dataset: dict[str, Any]) -> list[ImageBoxes]:
    """Ground-truth person boxes (score 1) per image, for images with at least one usable person."""
    images = _image_index(dataset)
    entries: dict[int, list[_Entry]] = defaultdict(list)
    for annotation in dataset["annotations"]:
        if annotation["category_id"] != PERSON_CATEGORY or annotation.get("iscrowd", 0):
            continue
        image = images.get(annotation["image_id"])
        if image is None:
            raise AnnotationError(
                f"annotation {annotation['id']} refers to image {annotation['image_id']}, which is not listed"
            )
        box = _gt_box(annotation, image.get("width", np.inf), image.get("height", np.inf))
        if box is not None and _has_keypoints(annotation):
            entries[annotation["image_id"]].append((box, 1.0, annotation["id"]))
    return _per_image(images, entries)


def detection_person_boxes(dataset: dict[str, Any], path: str | os.PathLike[str]) -> list[ImageBoxes]:
    """Person detections per image from a COCO results file, for images with at least one detection."""
    detections = read_json(path, "detections file")
    if not isinstance(detections, list):
        raise AnnotationError(f"detections file '{path}' must hold a JSON list of COCO results")
    images = _image_index(dataset)
    entries: dict[int, list[_Entry]] = defaultdict(list)
    for detection in detections:
        try:
            if detection["category_id"] != PERSON_CATEGORY:
                continue
            x, y, w, h = (float(v) for v in detection["bbox"])
            box = np.array([x, y, x + w, y + h])
            entries[detection["image_id"]].append((box, float(detection["score"]), -1))
        except (KeyError, TypeError, ValueError) as error:
            raise AnnotationError(
                f"detections file '{path}': entry {detection!r:.80} needs image_id, category_id, "
                f"bbox [x, y, w, h] and score"
            ) from error
    unknown = sum(len(boxes) for image_id, boxes in entries.items() if image_id not in images)
    if unknown:
        logger.warning("detections file '%s': %d boxes are for images not in the annotations", path, unknown)
    return _per_image(images, entries)
