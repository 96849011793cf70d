"""Training and validation sets from images, human labels and a multi-person teacher (e.g. YOLO11n-pose).

Three kinds of input, one COCO-format output (``pose.train.datasets`` and ``main.py eval`` read it):

- a labelled set (COCO keypoint json + images): human labels kept, unlabelled keypoints filled by the
  teacher where confident (:mod:`pose.train.distill.labelled`), and the teacher's confident people the
  labels left out added; its images are referenced where they are (absolute ``file_name``), never copied;
- unlabelled images and video frames: the teacher's confident people; video frames are written as JPEGs;
- a calibration set with complete human labels: the teacher is scored against it to choose the threshold.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pose.evaluation import gt_person_boxes, load_coco_annotations
from pose.geometry import keypoint_similarity
from pose.skeleton import COCO
from pose.train.distill.coco import CocoWriter, subset
from pose.train.distill.labelled import (
    CORRECT_OKS,
    FillConfig,
    ThresholdChoice,
    choose_threshold,
    duplicate_groups,
    fill_keypoints,
    match_people,
    split_validation,
    teacher_keypoints,
    unlabelled_people,
)
from pose.train.distill.sources import IMAGE_SUFFIXES, Footage
from pose.train.distill.teacher import PeoplePrediction, PeopleTeacher

log = logging.getLogger(__name__)

BOX_MARGIN = 0.15
"""Teacher-only persons get the box around their trusted keypoints grown by this fraction per side."""
AREA_PER_BOX = 0.53
"""A person's segmentation area as a fraction of its box (LSPET's stand-in too: no masks exist)."""
PERSON_FIELDS = ("bbox", "area")
"""Annotation fields a labelled or calibration set needs beyond evaluation's: its persons' boxes and areas."""


@dataclass(frozen=True)
class SetSummary:
    """What one input contributed: images read, images with people, persons (``teacher_persons`` of them
    labelled by the teacher alone), teacher-given keypoints, and how many times each person is written into
    the training set (``repeats``; the counts are of distinct persons)."""

    source: str
    images: int
    images_with_people: int
    persons: int
    teacher_persons: int
    filled_keypoints: int
    repeats: int = 1


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image '{path}': missing or not an image file")
    return image


def calibrate(
    dataset: dict[str, Any], images_dir: Path, teacher: PeopleTeacher, config: FillConfig,
    min_precision: float,
) -> ThresholdChoice:
    """Choose the keypoint threshold on a set with complete human labels (see :func:`choose_threshold`).

    Every non-crowd labelled person is matched to a teacher person by box IoU (``config.match_iou``); each
    human-labelled keypoint then gives one (teacher score, right?) pair. Unmatched persons give none.
    """
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    scores, correct = [], []
    for image in gt_person_boxes(dataset):
        prediction = teacher(_read(images_dir / image.file_name))
        for h, t in match_people(image.boxes, prediction.boxes, config.match_iou):
            annotation = annotations[int(image.annotation_ids[h])]
            truth = np.asarray(annotation["keypoints"], np.float64).reshape(-1, 3)
            labelled = truth[:, 2] > 0
            terms = keypoint_similarity(prediction.keypoints[t], truth[:, :2], annotation["area"],
                                        COCO.oks_sigmas)
            scores.extend(prediction.keypoint_scores[t][labelled])
            correct.extend(terms[labelled] >= CORRECT_OKS)
    return choose_threshold(np.array(scores), np.array(correct), min_precision)


def add_labelled_set(
    writer: CocoWriter, dataset: dict[str, Any], images_dir: Path, teacher: PeopleTeacher, config: FillConfig,
    keep: Callable[[str], bool] = lambda name: True, source: str = "",
) -> SetSummary:
    """Add the human-labelled persons of ``dataset`` (images whose ``file_name`` passes ``keep``), filled,
    and the teacher's confident people that the labels left out (:func:`unlabelled_people`).

    Persons the teacher does not match keep their human labels only. Returns what was added.
    """
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    images = persons = teacher_persons = filled = 0
    for image in gt_person_boxes(dataset):
        if not keep(image.file_name):
            continue
        path = (images_dir / image.file_name).resolve()
        pixels = _read(path)
        height, width = pixels.shape[:2]
        prediction = teacher(pixels)
        matches = dict(match_people(image.boxes, prediction.boxes, config.match_iou))
        image_id = writer.add_image_file(path, width, height)
        images += 1
        labelled = [annotations[int(annotation_id)] for annotation_id in image.annotation_ids]
        humans = np.array([np.reshape(a["keypoints"], (-1, 3)) for a in labelled], np.float32)
        for h, (annotation, human) in enumerate(zip(labelled, humans, strict=True)):
            merged = human
            if h in matches:
                t = matches[h]
                merged = fill_keypoints(human, prediction.keypoints[t], prediction.keypoint_scores[t],
                                        config.keypoint_threshold, width, height)
            filled += int(((merged[:, 2] > 0) & (human[:, 2] <= 0)).sum())
            writer.add_person(image_id, merged, np.asarray(annotation["bbox"]), float(annotation["area"]))
            persons += 1
        left_out = unlabelled_people(image.boxes, prediction.boxes, prediction.keypoints, config)
        added, given = _add_teacher_people(writer, image_id, teacher_people(
            prediction, config, width, height, among=np.flatnonzero(left_out)))
        persons += added
        teacher_persons += added
        filled += given
    return SetSummary(source, images, images, persons, teacher_persons, filled)


def teacher_people(
    prediction: PeoplePrediction, config: FillConfig, width: int, height: int,
    among: Iterable[int] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``((17, 3) keypoints, (4,) xywh box)`` for each teacher person (of the indices ``among``, default
    all) confident enough to train on."""
    for t in range(len(prediction)) if among is None else among:
        if prediction.box_scores[t] < config.min_box_score:
            continue
        keypoints = teacher_keypoints(prediction.keypoints[t], prediction.keypoint_scores[t],
                                      config.keypoint_threshold, width, height)
        trusted = keypoints[:, 2] > 0
        if trusted.sum() < config.min_keypoints:
            continue
        yield keypoints, keypoint_box(keypoints[trusted, :2], width, height)


def keypoint_box(points: np.ndarray, width: int, height: int, margin: float = BOX_MARGIN) -> np.ndarray:
    """``(4,)`` ``(x, y, w, h)``: the box around ``(n, 2)`` points, grown by ``margin`` per side, clipped."""
    low, high = points.min(axis=0), points.max(axis=0)
    grow = (high - low) * margin
    x1, y1 = np.maximum(low - grow, 0.0)
    x2, y2 = np.minimum(high + grow, [width - 1.0, height - 1.0])
    return np.array([x1, y1, x2 - x1, y2 - y1], np.float32)


def add_teacher_images(
    writer: CocoWriter, frames: Iterable[tuple[str, np.ndarray, Path | None]], teacher: PeopleTeacher,
    config: FillConfig, source: str = "", repeats: int = 1,
) -> SetSummary:
    """Add the teacher's confident people in ``frames``: ``(name, BGR image, file or None)``, each person
    ``repeats`` times (oversampling a small set beside a large one).

    An image with a ``file`` is referenced where it is; one without (a video frame) is written as a JPEG
    under ``name``. Images where nobody qualifies are not added.
    """
    images = kept = persons = filled = 0
    for name, pixels, path in frames:
        images += 1
        height, width = pixels.shape[:2]
        people = list(teacher_people(teacher(pixels), config, width, height))
        if not people:
            continue
        kept += 1
        image_id = (writer.add_image_file(path.resolve(), width, height) if path is not None
                    else writer.add_image(pixels, name))
        added, given = _add_teacher_people(writer, image_id, people, repeats)
        persons += added
        filled += given
    return SetSummary(source, images, kept, persons, persons, filled, repeats)


def _add_teacher_people(
    writer: CocoWriter, image_id: int, people: Iterable[tuple[np.ndarray, np.ndarray]], repeats: int = 1
) -> tuple[int, int]:
    """Write ``(keypoints, xywh box)`` teacher people into image ``image_id``, each ``repeats`` times;
    ``(persons, keypoints)``, each person counted once."""
    persons = keypoints_given = 0
    for keypoints, box in people:
        for _ in range(repeats):
            writer.add_person(image_id, keypoints, box, float(box[2] * box[3]) * AREA_PER_BOX)
        persons += 1
        keypoints_given += int((keypoints[:, 2] > 0).sum())
    return persons, keypoints_given


def image_files(paths: Sequence[Path]) -> Iterator[tuple[str, np.ndarray, Path | None]]:
    """``(name, image, file)`` for image files, and for every image in folders (sorted)."""
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) \
            if path.is_dir() else [path]
        for file in files:
            yield file.stem, _read(file), file


def video_frames(footage: Sequence[Footage]) -> Iterator[tuple[str, np.ndarray, Path | None]]:
    """``(name, frame, None)`` for the selected frames of each video (written as JPEGs when kept)."""
    for item in footage:
        for index, frame in item.frames():
            yield item.frame_name(index), frame, None


@dataclass(frozen=True)
class LabelledInput:
    """A COCO keypoint json with its image folder; ``near_duplicates`` (csv of ``image_a,image_b`` rows)
    keeps each group of the same photograph in one split."""

    annotations: Path
    images: Path
    near_duplicates: Path | None = None


def read_duplicate_pairs(path: Path) -> list[tuple[str, str]]:
    """``(image_a, image_b)`` file-name pairs from a csv with those two columns (e.g. LSPET's)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"image_a", "image_b"} <= rows[0].keys():
        raise ValueError(f"'{path}' needs the columns image_a and image_b")
    return [(row["image_a"], row["image_b"]) for row in rows]


def build_people_dataset(
    out: Path,
    teacher: PeopleTeacher,
    labelled: Sequence[LabelledInput],
    *,
    calibration: LabelledInput,
    images: Sequence[Path] = (),
    footage: Sequence[Footage] = (),
    val_count: int = 500,
    min_precision: float = 0.9,
    config: FillConfig | None = None,
    seed: int = 0,
    image_repeats: int = 1,
) -> dict[str, Any]:
    """Write ``out/annotations/train.json`` and ``val.json``; return the record of what was done.

    The threshold comes from ``calibration`` (never trained on). ``val.json`` holds about ``val_count``
    images of the first labelled set (near-duplicate groups kept whole) with their human labels only, so
    validation scores against people, not against the teacher; the rest of that set, the other sets whole
    (an image of theirs that shares a name with a validation image stays in), the ``images`` (each
    of their people ``image_repeats`` times) and the ``footage`` frames go to ``train.json``.
    """
    if image_repeats < 1:
        raise ValueError(f"image_repeats must be >= 1, got {image_repeats}")
    base = config or FillConfig()
    choice = calibrate(load_coco_annotations(calibration.annotations, PERSON_FIELDS), calibration.images,
                       teacher, base, min_precision)
    config = dataclasses.replace(base, keypoint_threshold=choice.threshold)
    log.info("teacher threshold %.2f: %.1f %% of its keypoints right, %.1f %% trusted", choice.threshold,
             100 * choice.precision, 100 * choice.coverage)
    train = CocoWriter(out, "train", info={"teacher_threshold": choice.threshold})
    val_names = _write_validation(labelled[0], out / "annotations" / "val.json", val_count, seed) \
        if labelled and val_count > 0 else frozenset()
    held_out = [val_names] + [frozenset()] * max(0, len(labelled) - 1)  # the first set's split only
    summaries = [
        add_labelled_set(train, load_coco_annotations(item.annotations, PERSON_FIELDS), item.images, teacher,
                         config, keep=lambda name, held=held: name not in held, source=str(item.annotations))
        for item, held in zip(labelled, held_out, strict=False)
    ]
    if images:
        summaries.append(add_teacher_images(train, image_files(images), teacher, config,
                                            source=", ".join(map(str, images)), repeats=image_repeats))
    for item in footage:
        summaries.append(add_teacher_images(train, video_frames([item]), teacher, config,
                                            source=item.describe()))
    train.write()
    return {
        "threshold": dataclasses.asdict(choice),
        "fill": dataclasses.asdict(config),
        "calibration": str(calibration.annotations),
        "calibration_images": str(calibration.images),
        "val_images": len(val_names),
        "sources": [dataclasses.asdict(summary) for summary in summaries],
    }


def _write_validation(item: LabelledInput, out_file: Path, count: int, seed: int) -> frozenset[str]:
    """Write about ``count`` images of ``item`` with their human labels only (absolute ``file_name``);
    returns their names."""
    content = load_coco_annotations(item.annotations, PERSON_FIELDS)
    all_names = [image["file_name"] for image in content["images"]]
    pairs = read_duplicate_pairs(item.near_duplicates) if item.near_duplicates else []
    if pairs and not {name for pair in pairs for name in pair} & set(all_names):
        example = f" (e.g. '{pairs[0][0]}' against '{all_names[0]}')" if all_names else ""
        raise ValueError(f"none of the images named in '{item.near_duplicates}' is a file_name of "
                         f"'{item.annotations}'{example}: give --near-duplicates the csv of that set")
    names = split_validation(all_names, duplicate_groups(pairs), count, seed)
    validation = subset(content, lambda image: image["file_name"] in names)
    for image in validation["images"]:
        image["file_name"] = str((item.images / image["file_name"]).resolve())
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(validation), encoding="utf-8")
    return names
