"""Benchmark footage: 1280x720 frames with 1, 3 or 6 real people, composed from committed test images.

No committed clip holds 1, 3 and 6 people, so each scene tiles real person crops (the annotated people of
``tests/data/coco_tiny``, from messi5.jpg, basketball1.png and the Sports2D demo) side by side on a blurred
street background (``tests/data/vtest_frame100.jpg``, blurred until no person is recognisable). The tiling
drifts a few pixels per frame, so consecutive frames differ as in a video and trackers have to follow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DATA_DIR = Path(__file__).resolve().parents[3] / "tests" / "data"
FRAME_HW = (720, 1280)
PERSON_HEIGHT = 330
"""Pixels: people fill about half the frame height, as in a webcam or a sports clip."""
DRIFT_MARGIN = 12
"""Pixels kept free on each side of a person's cell for the per-frame drift."""


@dataclass(frozen=True)
class Scene:
    """Frames of one composed scene and where its people are.

    Attributes:
        frames: ``F`` BGR uint8 images ``(720, 1280, 3)``.
        boxes: ``F`` arrays ``(N, 4)`` float32 ``(x1, y1, x2, y2)``: each pasted person's box in that frame.
    """

    frames: tuple[np.ndarray, ...]
    boxes: tuple[np.ndarray, ...]

    @property
    def people(self) -> int:
        return len(self.boxes[0])


def person_crops(data_dir: Path = DATA_DIR) -> list[np.ndarray]:
    """The annotated people of coco_tiny with at least 10 labelled keypoints, cropped from their images
    (BGR uint8), resized to :data:`PERSON_HEIGHT` pixels high."""
    annotations = json.loads((data_dir / "coco_tiny" / "person_keypoints.json").read_text(encoding="utf-8"))
    files = {image["id"]: image["file_name"] for image in annotations["images"]}
    crops = []
    for annotation in annotations["annotations"]:
        if annotation["num_keypoints"] < 10:
            continue
        image = cv2.imread(str(data_dir / "coco_tiny" / files[annotation["image_id"]]))
        x, y, w, h = (round(value) for value in annotation["bbox"])
        crop = image[max(y, 0) : y + h, max(x, 0) : x + w]
        scale = PERSON_HEIGHT / crop.shape[0]
        size = (round(crop.shape[1] * scale), PERSON_HEIGHT)
        crops.append(cv2.resize(crop, size, interpolation=cv2.INTER_AREA))
    return crops


def background(data_dir: Path = DATA_DIR) -> np.ndarray:
    """``(720, 1280, 3)`` BGR street scene blurred beyond recognising anyone."""
    image = cv2.resize(cv2.imread(str(data_dir / "vtest_frame100.jpg")), FRAME_HW[::-1])
    return cv2.GaussianBlur(image, (0, 0), sigmaX=25)


def compose_scene(people: int, frames: int, data_dir: Path = DATA_DIR) -> Scene:
    """``frames`` frames with ``people`` (1..6) real people, up to three per row, drifting 2 px per frame."""
    if not 1 <= people <= 6:
        raise ValueError(f"a scene holds 1 to 6 people, got {people}")
    crops, base = person_crops(data_dir), background(data_dir)
    height, width = FRAME_HW
    columns, rows = min(people, 3), 1 if people <= 3 else 2
    cell_w, cell_h = width // columns, height // rows
    images, all_boxes = [], []
    for index in range(frames):
        frame, boxes = base.copy(), []
        drift = 2 * (index % 8) - 8  # pixels, within the cell margin
        for slot in range(people):
            crop = crops[slot % len(crops)] if slot < len(crops) else cv2.flip(crops[slot % len(crops)], 1)
            crop = crop[: cell_h - 4, : cell_w - 2 * DRIFT_MARGIN]
            row, column = divmod(slot, columns)
            top = row * cell_h + (cell_h - crop.shape[0]) // 2
            left = column * cell_w + (cell_w - crop.shape[1]) // 2 + drift
            frame[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
            boxes.append((left, top, left + crop.shape[1], top + crop.shape[0]))
        images.append(frame)
        all_boxes.append(np.asarray(boxes, np.float32))
    return Scene(tuple(images), tuple(all_boxes))
