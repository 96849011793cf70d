"""A COCO-format person-keypoint dataset written image by image."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pose.skeleton import COCO


class CocoWriter:
    """Writes images under ``root/images/<split>/`` and ``root/annotations/<split>.json``.

    The json has ``images`` (id, file_name relative to ``root/images`` or absolute, width, height),
    ``annotations`` (id, image_id, category_id 1, bbox ``[x, y, w, h]``, area, num_keypoints, keypoints
    ``[x, y, v] * 17``, iscrowd 0) and the COCO person category, so ``pose.train.datasets`` and
    ``main.py eval`` read it.
    """

    def __init__(self, root: Path, split: str, info: dict[str, Any] | None = None, jpeg_quality: int = 92):
        self.root, self.split, self.jpeg_quality = Path(root), split, jpeg_quality
        (self.root / "images" / split).mkdir(parents=True, exist_ok=True)
        (self.root / "annotations").mkdir(parents=True, exist_ok=True)
        self.info = dict(info or {})
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    @property
    def annotation_file(self) -> Path:
        return self.root / "annotations" / f"{self.split}.json"

    def add_image(self, image: np.ndarray, name: str) -> int:
        """Save ``image`` (BGR uint8) as ``images/<split>/<name>.jpg``; returns its image id."""
        file_name = f"{self.split}/{name}.jpg"
        path = self.root / "images" / file_name
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]):
            raise OSError(f"cannot write image '{path}'")
        image_id = len(self.images) + 1
        height, width = image.shape[:2]
        self.images.append({"id": image_id, "file_name": file_name, "width": width, "height": height})
        return image_id

    def add_image_file(self, path: Path, width: int, height: int) -> int:
        """Reference an image where it is (absolute ``file_name``, nothing copied); returns its image id."""
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "file_name": str(Path(path).resolve()), "width": width,
                            "height": height})
        return image_id

    def add_person(self, image_id: int, keypoints: np.ndarray, box: np.ndarray, area: float) -> int:
        """Add one person: ``keypoints`` ``(17, 3)`` ``(x, y, v)``, ``box`` ``(x, y, w, h)``, both pixels."""
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.shape != (COCO.num_keypoints, 3):
            raise ValueError(f"expected (17, 3) COCO keypoints, got {keypoints.shape}")
        labelled = keypoints[:, 2] > 0
        keypoints[~labelled] = 0.0
        annotation_id = len(self.annotations) + 1
        self.annotations.append(
            {
                "id": annotation_id,
                "image_id": image_id,
                "category_id": 1,
                "bbox": [round(float(v), 2) for v in box],
                "area": round(float(area), 2),
                "num_keypoints": int(labelled.sum()),
                "keypoints": [
                    round(float(v), 2) if i % 3 != 2 else int(v) for i, v in enumerate(keypoints.ravel())
                ],
                "iscrowd": 0,
            }
        )
        return annotation_id

    def write(self) -> Path:
        """Write the annotation json; returns its path."""
        content = {
            "info": self.info,
            "images": self.images,
            "annotations": self.annotations,
            "categories": [
                {
                    "id": 1,
                    "name": "person",
                    "supercategory": "person",
                    "keypoints": list(COCO.keypoints),
                    "skeleton": [[a + 1, b + 1] for a, b in COCO.limbs],
                }
            ],
        }
        self.annotation_file.write_text(json.dumps(content), encoding="utf-8")
        return self.annotation_file


def subset(content: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The COCO set ``content`` cut to the images for which ``keep(image_entry)`` is true and their
    annotations (everything else, e.g. ``categories``, as it is)."""
    images = [image for image in content["images"] if keep(image)]
    ids = {image["id"] for image in images}
    annotations = [ann for ann in content["annotations"] if ann["image_id"] in ids]
    return {**content, "images": images, "annotations": annotations}


def write_subset(annotation_file: Path, out_file: Path, keep: Callable[[dict[str, Any]], bool]) -> Path:
    """Write the images for which ``keep(image_entry)`` is true, with their annotations, to ``out_file``."""
    content = json.loads(Path(annotation_file).read_text(encoding="utf-8"))
    out_file.write_text(json.dumps(subset(content, keep)), encoding="utf-8")
    return out_file
