"""Build the distillation dataset: label the footage with the teacher, split by footage, augment offline.

Training footage gives its real frames (only frames where the teacher found someone) plus, for every
person with a segmentation mask, ``pastes_per_person`` composites: the person cut out and pasted onto
another scene, then occluded / colour-jittered / blurred / noised (``augment``). Held-out footage gives
real frames only, never augmented, and none of its frames or backgrounds reach the training split, so a
held-out score measures people and scenes the student has never seen.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pose.train.distill.augment import paste_person
from pose.train.distill.coco import CocoWriter, write_subset
from pose.train.distill.proposals import Detector, LabelConfig, PersonLabel, label_frame
from pose.train.distill.sources import Footage
from pose.train.distill.teacher import Teacher
from pose.train.photometric import PhotometricConfig, photometric

log = logging.getLogger(__name__)

TRAIN_SPLIT, HOLDOUT_SPLIT = "train", "holdout"
TRAIN_FRAMES = "train_frames"
"""``annotations/train_frames.json``: the real training frames without composites, to score seen footage."""
PASTE_TAG = "_paste"
COMPOSITE_STEM = re.compile(rf"_p\d+{PASTE_TAG}\d+$")
"""How a composite's file stem ends (``<frame>_p<person>_paste<copy>``), whatever the footage is called."""
MAX_BACKGROUND_SIDE = 960


@dataclass(frozen=True)
class BuildConfig:
    """How the dataset is built.

    Attributes:
        label: how frames are labelled (see :class:`LabelConfig`).
        photometric: augmentation of the pasted composites.
        pastes_per_person: composites made from every training person that has a mask.
        seed: seeds background choice, placement and augmentation.
    """

    label: LabelConfig = field(default_factory=LabelConfig)
    photometric: PhotometricConfig = field(default_factory=PhotometricConfig)
    pastes_per_person: int = 2
    seed: int = 0


@dataclass(frozen=True)
class SplitSummary:
    """What one split holds: its footage, labelled frames, persons and written images."""

    split: str
    footage: tuple[str, ...]
    frames_read: int
    frames_labelled: int
    persons: int
    composites: int
    annotation_file: Path

    def to_dict(self) -> dict[str, object]:
        return {
            "split": self.split,
            "footage": list(self.footage),
            "frames_read": self.frames_read,
            "frames_labelled": self.frames_labelled,
            "persons": self.persons,
            "composites": self.composites,
            "annotation_file": str(self.annotation_file),
        }


def load_backgrounds(paths: Sequence[Path], median_frames: int = 25) -> list[np.ndarray]:
    """Scenes to paste people onto: images as they are; a video as the per-pixel median of
    ``median_frames`` frames spread over it (a fixed camera's scene without the people who move through).
    Each is downscaled to at most :data:`MAX_BACKGROUND_SIDE` pixels on its longer side."""
    scenes = []
    for path in paths:
        footage = Footage(Path(path))
        if footage.is_image:
            scene = next(footage.frames())[1]
        else:
            count = int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT)) or median_frames
            step = max(1, count // median_frames)
            frames = [frame for _, frame in Footage(Path(path), every=step).frames()]
            if not frames:
                raise FileNotFoundError(f"background video '{path}' has no readable frames")
            scene = np.median(np.stack(frames), axis=0).astype(np.uint8)
        scenes.append(_shrink(scene, MAX_BACKGROUND_SIDE))
    return scenes


def build_dataset(
    out_dir: Path,
    train: Sequence[Footage],
    holdout: Sequence[Footage],
    teacher: Teacher,
    backgrounds: Sequence[np.ndarray],
    config: BuildConfig,
    detector: Detector | None = None,
) -> tuple[SplitSummary, SplitSummary]:
    """Label ``train`` and ``holdout`` footage into ``out_dir`` (COCO format) and describe each split.

    Writes ``images/{train,holdout}/*.jpg``, ``annotations/{train,holdout}.json``,
    ``annotations/train_frames.json`` (the real training frames only) and ``dataset.json`` (the summaries).
    ``backgrounds`` must not come from held-out footage.
    """
    if not train or not holdout:
        raise ValueError("give training and held-out footage: the student is validated on unseen footage")
    if config.pastes_per_person > 0 and not backgrounds:
        raise ValueError(
            "background replacement needs at least one background scene (or pastes_per_person=0)"
        )
    rng = np.random.default_rng(config.seed)
    summaries = (
        _label_split(out_dir, TRAIN_SPLIT, train, teacher, config, detector, backgrounds, rng),
        _label_split(out_dir, HOLDOUT_SPLIT, holdout, teacher, config, detector, (), rng),
    )
    frames_file = out_dir / "annotations" / f"{TRAIN_FRAMES}.json"
    write_subset(summaries[0].annotation_file, frames_file, is_real_frame)
    record = {"label_config": asdict(config.label), "splits": [s.to_dict() for s in summaries]}
    (out_dir / "dataset.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return summaries


def _label_split(
    out_dir: Path,
    split: str,
    footage: Sequence[Footage],
    teacher: Teacher,
    config: BuildConfig,
    detector: Detector | None,
    backgrounds: Sequence[np.ndarray],
    rng: np.random.Generator,
) -> SplitSummary:
    writer = CocoWriter(out_dir, split, info={"footage": [item.describe() for item in footage]})
    read = labelled = persons = composites = 0
    for item in footage:
        for index, frame in item.frames():
            read += 1
            labels = label_frame(frame, teacher, config.label, detector)
            if not labels:
                continue
            labelled += 1
            image_id = writer.add_image(frame, item.frame_name(index))
            for label in labels:
                area = (
                    float((label.mask > 0).sum())
                    if label.mask is not None
                    else float(label.box[2] * label.box[3])
                )
                writer.add_person(image_id, label.keypoints, label.box, area)
                persons += 1
                if backgrounds:
                    composites += _add_composites(
                        writer, frame, label, backgrounds, config, rng, f"{item.frame_name(index)}_p{persons}"
                    )
        log.info(
            "%s: %s -> %d frames with people, %d persons so far", split, item.describe(), labelled, persons
        )
    writer.write()
    return SplitSummary(
        split,
        tuple(item.describe() for item in footage),
        read,
        labelled,
        persons,
        composites,
        writer.annotation_file,
    )


def _add_composites(
    writer: CocoWriter,
    frame: np.ndarray,
    label: PersonLabel,
    backgrounds: Sequence[np.ndarray],
    config: BuildConfig,
    rng: np.random.Generator,
    name: str,
) -> int:
    """Paste ``label``'s person onto ``config.pastes_per_person`` random scenes; returns how many."""
    cut = cut_out(frame, label)
    if cut is None:
        return 0
    person, mask, keypoints = cut
    for copy in range(config.pastes_per_person):
        scene = backgrounds[int(rng.integers(len(backgrounds)))]
        pasted = paste_person(person, mask, keypoints, scene, rng)
        image = photometric(pasted.image, pasted.box, rng, config.photometric)
        image_id = writer.add_image(image, f"{name}{PASTE_TAG}{copy}")
        writer.add_person(image_id, pasted.keypoints, pasted.box, pasted.area)
    return config.pastes_per_person


def is_real_frame(image: dict[str, object]) -> bool:
    """True for an image entry that is a footage frame, not a pasted composite."""
    return COMPOSITE_STEM.search(Path(str(image["file_name"])).stem) is None


def cut_out(frame: np.ndarray, label: PersonLabel) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The label's box as ``(person BGR, mask uint8 0/255, keypoints relative to the box)``; None
    without a mask."""
    if label.mask is None:
        return None
    height, width = frame.shape[:2]
    x, y, w, h = label.box
    x1, y1 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x2, y2 = min(width, int(np.ceil(x + w)) + 1), min(height, int(np.ceil(y + h)) + 1)
    mask = np.zeros((y2 - y1, x2 - x1), np.uint8)
    mx, my = label.mask_origin[0] - x1, label.mask_origin[1] - y1
    mh, mw = label.mask.shape
    mask[max(0, my) : my + mh, max(0, mx) : mx + mw] = label.mask[max(0, -my) :, max(0, -mx) :][
        : mask.shape[0] - max(0, my), : mask.shape[1] - max(0, mx)
    ]
    keypoints = label.keypoints.copy()
    labelled = keypoints[:, 2] > 0
    keypoints[labelled, :2] -= (x1, y1)
    return frame[y1:y2, x1:x2].copy(), mask, keypoints


def _shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
