"""MPII annotations (mmpose / HRNet json) -> COCO keypoint format, so one dataset reader serves all sets.

Input: ``mpii_train.json`` / ``mpii_val.json`` as distributed with mmpose and HRNet, a list of
``{"image", "center", "scale", "joints" (16 x 2), "joints_vis" (16)}`` in MATLAB 1-based pixels, and for
validation optionally ``mpii_gt_val.mat`` whose head boxes PCKh needs.

Each person keeps MPII's ``center`` (shifted to 0-based pixels) and ``scale``: the readers
(:func:`pose.evaluation.gt_person_boxes`, hence training too) then crop as mmpose's ``TopDownMpiiDataset``
does, a square of side ``200 * scale`` centred ``15 * scale`` pixels below the center, not clipped to the
image, padded by 1.25. A COCO ``bbox`` of that square is written as well, for tools that want one.

Command line::

    python -m pose.train.mpii data/mpii/annotations/mpii_val.json data/mpii/images \\
        data/mpii/annotations/mpii_val_coco.json --gt-mat data/mpii/annotations/mpii_gt_val.mat
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from pose import LOG_FORMAT
from pose.skeleton import MPII
from pose.train.datasets import DatasetError

log = logging.getLogger(__name__)

MPII_PIXEL_SCALE = 200.0
"""MPII's ``scale`` is the person height in units of 200 pixels."""
CENTER_SHIFT = 15.0
"""mmpose moves the center down by ``15 * scale`` pixels to avoid cutting the legs."""


def mpii_box(center: tuple[float, float], scale: float) -> list[float]:
    """Square COCO box ``[x, y, w, h]`` of mmpose's MPII crop before padding, from a 0-based ``center``."""
    side = MPII_PIXEL_SCALE * scale
    cx, cy = center[0], center[1] + CENTER_SHIFT * scale
    return [cx - side / 2.0, cy - side / 2.0, side, side]


def convert_mpii(
    entries: list[dict[str, Any]],
    image_sizes: dict[str, tuple[int, int]],
    head_boxes: np.ndarray | None = None,
) -> dict[str, Any]:
    """COCO keypoint dict from MPII entries.

    Args:
        entries: the MPII json list (see module docstring).
        image_sizes: ``file name -> (width, height)`` in pixels.
        head_boxes: ``(N, 4)`` 0-based ``(x1, y1, x2, y2)`` head boxes in entry order, or None. When given,
            every annotation gets a ``head_box`` field (used by PCKh).

    Raises:
        DatasetError: an entry without the expected fields, or a head-box count that does not match.
    """
    if head_boxes is not None and len(head_boxes) != len(entries):
        raise DatasetError(f"{len(head_boxes)} head boxes, {len(entries)} MPII entries: files do not match")
    image_ids: dict[str, int] = {}
    annotations = []
    for index, entry in enumerate(entries):
        try:
            name, center, scale = str(entry["image"]), entry["center"], float(entry["scale"])
            joints = np.asarray(entry["joints"], dtype=np.float64).reshape(MPII.num_keypoints, 2)
            labelled = np.asarray(entry["joints_vis"], dtype=np.float64).reshape(MPII.num_keypoints) > 0
        except (KeyError, TypeError, ValueError):
            raise DatasetError(
                f"MPII entry {index} needs 'image', 'center', 'scale', 16 'joints' and 16 'joints_vis'"
            ) from None
        if center[0] == -1:
            continue
        image_id = image_ids.setdefault(name, len(image_ids) + 1)
        keypoints = np.zeros((MPII.num_keypoints, 3))
        keypoints[labelled, :2] = joints[labelled] - 1.0
        keypoints[labelled, 2] = 2
        center_0 = (float(center[0]) - 1.0, float(center[1]) - 1.0)
        box = mpii_box(center_0, scale)
        annotation = {
            "id": index + 1,
            "image_id": image_id,
            "category_id": 1,
            "iscrowd": 0,
            "center": list(center_0),
            "scale": scale,
            "bbox": box,
            "area": box[2] * box[3],
            "num_keypoints": int(labelled.sum()),
            "keypoints": [round(float(v), 3) for v in keypoints.reshape(-1)],
        }
        if head_boxes is not None:
            annotation["head_box"] = [float(v) for v in head_boxes[index]]
        annotations.append(annotation)
    images = [
        {"id": image_id, "file_name": name, "width": image_sizes[name][0], "height": image_sizes[name][1]}
        for name, image_id in image_ids.items()
    ]
    category = {
        "id": 1, "name": "person", "supercategory": "person",
        "keypoints": list(MPII.keypoints), "skeleton": [[a + 1, b + 1] for a, b in MPII.limbs],
    }
    return {"images": images, "annotations": annotations, "categories": [category]}


def read_head_boxes(gt_mat: Path) -> np.ndarray:
    """``(N, 4)`` 0-based ``(x1, y1, x2, y2)`` head boxes from ``mpii_gt_val.mat`` (``headboxes_src``)."""
    from scipy.io import loadmat

    try:
        boxes = np.asarray(loadmat(str(gt_mat))["headboxes_src"], dtype=np.float64)
    except (OSError, ValueError, KeyError) as error:
        raise DatasetError(f"cannot read head boxes from '{gt_mat}': {error}") from None
    # (2 corners, 2 coordinates, N) -> (N, x1 y1 x2 y2), MATLAB 1-based -> 0-based
    return boxes.transpose(2, 0, 1).reshape(-1, 4) - 1.0


def read_image_sizes(names: set[str], images_dir: Path) -> dict[str, tuple[int, int]]:
    """``name -> (width, height)`` for every image (decodes each once; MPII has about 25k)."""
    sizes = {}
    for name in tqdm(sorted(names), desc="reading image sizes", unit="img"):
        image = cv2.imread(str(images_dir / name), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise DatasetError(f"cannot read MPII image '{images_dir / name}': check the images folder")
        sizes[name] = (int(image.shape[1]), int(image.shape[0]))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert MPII json annotations to COCO keypoint format.")
    parser.add_argument("annotations", type=Path, help="mpii_train.json or mpii_val.json (mmpose / HRNet)")
    parser.add_argument("images", type=Path, help="MPII image folder (image sizes are read from it)")
    parser.add_argument("output", type=Path, help="COCO-format json to write")
    parser.add_argument("--gt-mat", type=Path, help="mpii_gt_val.mat: adds head boxes for PCKh (validation)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        entries = json.loads(args.annotations.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"cannot read MPII annotations '{args.annotations}': {error}") from None
    head_boxes = read_head_boxes(args.gt_mat) if args.gt_mat else None
    sizes = read_image_sizes({str(entry["image"]) for entry in entries}, args.images)
    coco = convert_mpii(entries, sizes, head_boxes)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(coco), encoding="utf-8")
    log.info("wrote %d persons, %d images: %s", len(coco["annotations"]), len(coco["images"]), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
