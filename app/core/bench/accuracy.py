"""``bench --accuracy``: COCO keypoint AP, AP50, AR and milliseconds per image of every system on one set.

Scoring is ``pose.evaluation``'s, the code ``main.py eval`` runs: top-down systems (ours, MediaPipe Pose,
MoveNet) get each image's ground-truth person boxes and their poses are rescored and OKS-NMS'd as ours are
(:func:`pose.evaluation.coco_results`); a bottom-up system (YOLO11n-pose) runs on every image of the set
and its people are scored with its own person scores (:func:`pose.evaluation.people_results`), as
pycocotools scores any detector. Only the system's call is timed (not reading the image); the first image
is run once untimed, so first-call costs stay out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.core.bench.systems import PoseSystem, Unavailable
from pose.evaluation import (
    AnnotationError,
    ImagePredictions,
    coco_keypoint_stats,
    coco_results,
    gt_person_boxes,
    load_coco_annotations,
    people_results,
)
from pose.skeleton import COCO
from pose.transforms import PADDING, box_to_center_size

Report = Callable[[str], None]
GT_BOXES = "ground truth"
OWN_BOXES = "own detections"
TOP_DOWN_ASPECT = 0.75
"""Width / height of the crop whose area OKS-NMS uses for a top-down pose (ours: 96 / 128 and 192 / 256)."""


@dataclass(frozen=True)
class AccuracyRow:
    """One system on one set: COCO keypoint AP, AP50 and AR (fractions), mean ms per image, or why not.

    ``boxes`` is :data:`GT_BOXES` (top-down on the set's ground-truth boxes: no detector in the time or the
    score) or :data:`OWN_BOXES` (bottom-up: the system's own people).
    """

    system: str
    setting: str
    boxes: str
    ap: float | None = None
    ap50: float | None = None
    ar: float | None = None
    ms_per_image: float | None = None
    images: int = 0
    poses: int = 0
    unavailable: str | None = None


def load_set(ann_file: str | os.PathLike[str], images_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The COCO-format set, checked: 17 keypoints (COCO-17) and at least one labelled person.

    Raises:
        FileNotFoundError: the annotation file or the images folder is missing.
        AnnotationError: anything else that makes the set unusable (the message names the file).
    """
    dataset = load_coco_annotations(ann_file)
    if not Path(images_dir).is_dir():
        raise FileNotFoundError(f"images folder '{images_dir}' not found")
    sizes = {len(annotation["keypoints"]) // 3 for annotation in dataset["annotations"]}
    if sizes != {COCO.num_keypoints}:
        raise AnnotationError(f"annotation file '{ann_file}' must hold COCO-17 keypoints for every person, "
                              f"got {sorted(sizes) or 'no people'} per person")
    if not gt_person_boxes(dataset):
        raise AnnotationError(f"annotation file '{ann_file}': no person has a labelled keypoint")
    return dataset


def _read(images_dir: Path, image: dict[str, Any]) -> np.ndarray:
    path = images_dir / image["file_name"]
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise FileNotFoundError(f"image '{path}' (id {image['id']}) is missing or not an image")
    return frame


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - start) * 1000.0


def score_system(
    system: PoseSystem, dataset: dict[str, Any], images_dir: str | os.PathLike[str]
) -> AccuracyRow:
    """Run ``system`` over the set (see the module docstring) and score its poses with pycocotools."""
    images_dir, sigmas = Path(images_dir), COCO.oks_sigmas
    files = {image["id"]: image for image in dataset["images"]}
    results, total_ms = [], 0.0
    if system.top_down:
        entries = gt_person_boxes(dataset)
        if system.warm_up is not None:
            system.warm_up(max(len(entry.boxes) for entry in entries))
        system.predict(_read(images_dir, files[entries[0].image_id]), entries[0].boxes)  # untimed first call
        predictions = []
        for entry in entries:
            frame = _read(images_dir, files[entry.image_id])
            pose, ms = _timed(lambda frame=frame, entry=entry: system.predict(frame, entry.boxes))
            total_ms += ms
            _, sizes = box_to_center_size(entry.boxes, TOP_DOWN_ASPECT, PADDING)
            predictions.append(ImagePredictions(entry.image_id, pose.keypoints, pose.scores, entry.scores,
                                                sizes.prod(axis=1), entry.annotation_ids))
        results, count = coco_results(predictions, sigmas), len(entries)
    else:
        system.predict(_read(images_dir, dataset["images"][0]))  # untimed first call
        for image in dataset["images"]:
            frame = _read(images_dir, image)
            people, ms = _timed(lambda frame=frame: system.predict(frame))
            total_ms += ms
            results += people_results(image["id"], people.keypoints, people.keypoint_scores,
                                      people.box_scores)
        count = len(dataset["images"])
    stats = coco_keypoint_stats(dataset, results, sigmas)
    return AccuracyRow(system.name, system.setting, GT_BOXES if system.top_down else OWN_BOXES,
                       round(stats["AP"], 4), round(stats["AP50"], 4), round(stats["AR"], 4),
                       round(total_ms / count, 2), count, len(results))


def score_all(
    systems: Sequence[PoseSystem | Unavailable], dataset: dict[str, Any], images_dir: str | os.PathLike[str],
    report: Report = print,
) -> list[AccuracyRow]:
    """Every system's row (unavailable ones say why), printed through ``report`` as each one finishes."""
    report(f"{'system':<22} {'setting':<44} {'boxes':<15} {'AP':>5} {'AP50':>5} {'AR':>5} {'ms/img':>7}")
    rows = []
    for system in systems:
        if isinstance(system, Unavailable):
            rows.append(AccuracyRow(system.name, "", "", unavailable=system.reason))
        else:
            rows.append(score_system(system, dataset, images_dir))
        report(format_row(rows[-1]))
    return rows


def format_row(row: AccuracyRow) -> str:
    """One table line: percentages with one decimal, or the reason the system is unavailable."""
    if row.unavailable is not None:
        return f"{row.system:<22} unavailable: {row.unavailable}"
    numbers = " ".join(f"{100 * value:5.1f}" for value in (row.ap, row.ap50, row.ar))
    return f"{row.system:<22} {row.setting:<44} {row.boxes:<15} {numbers} {row.ms_per_image:7.1f}"
