"""One teacher label per person in a frame.

A single-person teacher (BlazePose) finds the most prominent person in the image it is given. To label
every person, the frame is looked at through windows (detector boxes when a detector is given; otherwise
the whole frame plus a grid of overlapping tiles, so that small people fill enough of a window); inside
a window the teacher runs again after each person it finds is erased (filled with the window's mean
colour over the teacher's segmentation mask). Candidates from all windows are de-duplicated by box
overlap, keeping the one with the most labelled keypoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from pose.geometry import greedy_suppression, intersection_over_smaller, iou_matrix
from pose.train.distill.mapping import BLAZEPOSE_TO_COCO, DEFAULT_MIN_VISIBILITY, blazepose_to_coco
from pose.train.distill.teacher import Teacher

Detector = Callable[[np.ndarray], np.ndarray]
"""BGR uint8 frame -> ``(N, 4)`` person boxes ``(x1, y1, x2, y2)`` in image pixels."""


@dataclass(frozen=True)
class LabelConfig:
    """How a frame is labelled.

    Attributes:
        min_visibility: BlazePose visibility below which a keypoint is unlabelled.
        min_keypoints: a person needs at least this many labelled keypoints to be kept.
        min_height: a person's box must be at least this many pixels tall.
        tiles: without a detector, also look through an ``tiles x tiles`` grid of half-overlapping windows
            (each ``2 / (tiles + 1)`` of the frame); 0 looks at the whole frame only.
        people_per_window: how many persons the teacher may find in one window (erasing each in turn).
        mask_threshold: segmentation probability above which a pixel belongs to the person.
        duplicate_iou, duplicate_ios: a candidate whose box overlaps a kept one by more than this IoU, or
            this intersection-over-the-smaller-box, is a duplicate.
        detector_padding: a detector box is enlarged by this factor to make the teacher's window.
    """

    min_visibility: float = DEFAULT_MIN_VISIBILITY
    min_keypoints: int = 8
    min_height: float = 48.0
    tiles: int = 0
    people_per_window: int = 2
    mask_threshold: float = 0.5
    duplicate_iou: float = 0.5
    duplicate_ios: float = 0.8
    detector_padding: float = 1.4


@dataclass(frozen=True)
class PersonLabel:
    """A teacher label in frame pixels.

    Attributes:
        keypoints: ``(17, 3)`` float32 COCO ``(x, y, v)``, image pixels; ``v`` is 2 (labelled) or 0.
        box: ``(4,)`` float32 ``(x, y, w, h)``: the segmented person (within reach of the keypoints), or
            the keypoint extent when there is no mask.
        mask: ``(h, w)`` uint8 person mask (0/255) over ``box`` rounded outwards to whole pixels
            (``mask_origin`` is its top-left), or None.
        mask_origin: ``(x, y)`` integer pixel of the mask's top-left corner.
        score: mean BlazePose visibility of the labelled keypoints.
    """

    keypoints: np.ndarray
    box: np.ndarray
    mask: np.ndarray | None
    mask_origin: tuple[int, int]
    score: float

    @property
    def num_keypoints(self) -> int:
        return int((self.keypoints[:, 2] > 0).sum())


def label_frame(
    frame: np.ndarray, teacher: Teacher, config: LabelConfig, detector: Detector | None = None
) -> list[PersonLabel]:
    """Every person the teacher labels in ``frame`` (BGR uint8), at most one label each."""
    height, width = frame.shape[:2]
    if detector is not None:
        windows = detector_windows(detector(frame), (width, height), config.detector_padding)
        per_window = 1
    else:
        windows = tile_windows((width, height), config.tiles)
        per_window = config.people_per_window
    candidates = []
    for window in windows:
        candidates.extend(_label_window(frame, window, teacher, config, per_window))
    return deduplicate(candidates, config.duplicate_iou, config.duplicate_ios)


def tile_windows(image_size: tuple[int, int], tiles: int) -> list[tuple[int, int, int, int]]:
    """The whole image, then ``tiles x tiles`` half-overlapping windows ``(x1, y1, x2, y2)`` (pixels)."""
    width, height = image_size
    windows = [(0, 0, width, height)]
    if tiles >= 2:
        step_x, step_y = width / (tiles + 1), height / (tiles + 1)
        for row in range(tiles):
            for col in range(tiles):
                windows.append(
                    (
                        round(col * step_x),
                        round(row * step_y),
                        round((col + 2) * step_x),
                        round((row + 2) * step_y),
                    )
                )
    return windows


def detector_windows(
    boxes: np.ndarray, image_size: tuple[int, int], padding: float
) -> list[tuple[int, int, int, int]]:
    """Detector boxes ``(N, 4)`` xyxy enlarged by ``padding`` about their centre, clipped to the image."""
    width, height = image_size
    windows = []
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        cx, cy, half_w, half_h = (
            (x1 + x2) / 2,
            (y1 + y2) / 2,
            (x2 - x1) * padding / 2,
            (y2 - y1) * padding / 2,
        )
        window = (
            max(0, round(cx - half_w)),
            max(0, round(cy - half_h)),
            min(width, round(cx + half_w)),
            min(height, round(cy + half_h)),
        )
        if window[2] - window[0] >= 8 and window[3] - window[1] >= 8:
            windows.append(window)
    return windows


def _label_window(
    frame: np.ndarray,
    window: tuple[int, int, int, int],
    teacher: Teacher,
    config: LabelConfig,
    per_window: int,
) -> list[PersonLabel]:
    x0, y0, x1, y1 = window
    crop = frame[y0:y1, x0:x1].copy()
    fill = crop.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    labels = []
    for _ in range(per_window):
        found = teacher(crop)
        if found is None:
            break
        keypoints = blazepose_to_coco(found.landmarks, (x1 - x0, y1 - y0), config.min_visibility)
        labelled = keypoints[:, 2] > 0
        mask = None if found.mask is None else found.mask >= config.mask_threshold
        person = person_region(keypoints, mask, (x1 - x0, y1 - y0))
        _erase(crop, person, keypoints, fill)
        if labelled.sum() < config.min_keypoints:
            continue
        keypoints[labelled, :2] += (x0, y0)
        score = float(found.landmarks[list(BLAZEPOSE_TO_COCO), 2][labelled].mean())
        label = _make_label(keypoints, person, (x0, y0), score)
        if label.box[3] >= config.min_height:
            labels.append(label)
    return labels


def person_region(
    keypoints: np.ndarray, mask: np.ndarray | None, image_size: tuple[int, int], reach: float = 0.25
) -> np.ndarray | None:
    """The part of ``mask`` that belongs to the person with these ``keypoints``: mask pixels inside the
    keypoint extent enlarged by ``reach`` of its size on every side. ``(H, W)`` bool, or None."""
    if mask is None:
        return None
    labelled = keypoints[:, 2] > 0
    if not labelled.any():
        return None
    width, height = image_size
    (kx1, ky1), (kx2, ky2) = keypoints[labelled, :2].min(axis=0), keypoints[labelled, :2].max(axis=0)
    pad_x, pad_y = (kx2 - kx1) * reach + 4, (ky2 - ky1) * reach + 4
    region = np.zeros_like(mask)
    xa, ya = max(0, int(kx1 - pad_x)), max(0, int(ky1 - pad_y))
    xb, yb = min(width, int(np.ceil(kx2 + pad_x)) + 1), min(height, int(np.ceil(ky2 + pad_y)) + 1)
    region[ya:yb, xa:xb] = mask[ya:yb, xa:xb]
    return region if region.any() else None


def _erase(crop: np.ndarray, region: np.ndarray | None, keypoints: np.ndarray, fill: np.ndarray) -> None:
    """Hide a found person from the teacher: fill the dilated mask (else the keypoint box) with ``fill``."""
    if region is not None:
        grown = cv2.dilate(region.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
        crop[grown] = fill
        return
    labelled = keypoints[:, 2] > 0
    if labelled.any():
        (x1, y1), (x2, y2) = keypoints[labelled, :2].min(axis=0), keypoints[labelled, :2].max(axis=0)
        crop[max(0, int(y1)) : int(y2) + 1, max(0, int(x1)) : int(x2) + 1] = fill


def _make_label(
    keypoints: np.ndarray, region: np.ndarray | None, offset: tuple[int, int], score: float
) -> PersonLabel:
    """The label in frame pixels; ``region`` is in window pixels, ``offset`` the window's top-left."""
    labelled = keypoints[:, 2] > 0
    (kx1, ky1), (kx2, ky2) = keypoints[labelled, :2].min(axis=0), keypoints[labelled, :2].max(axis=0)
    if region is None:
        box = np.array([kx1, ky1, kx2 - kx1, ky2 - ky1], dtype=np.float32)
        return PersonLabel(keypoints, box, None, (int(kx1), int(ky1)), score)
    rows, cols = np.nonzero(region)
    mx1, my1, mx2, my2 = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
    mask = (region[my1:my2, mx1:mx2] * 255).astype(np.uint8)
    ox, oy = offset
    x1, y1 = min(kx1, mx1 + ox), min(ky1, my1 + oy)
    x2, y2 = max(kx2, mx2 + ox), max(ky2, my2 + oy)
    box = np.array([x1, y1, x2 - x1, y2 - y1], dtype=np.float32)
    return PersonLabel(keypoints, box, mask, (int(mx1 + ox), int(my1 + oy)), score)


def deduplicate(labels: list[PersonLabel], max_iou: float, max_ios: float) -> list[PersonLabel]:
    """Greedy: most labelled keypoints first (then score); drop a label overlapping a kept one by more than
    ``max_iou`` IoU or ``max_ios`` intersection over the smaller box."""
    ranked = sorted(labels, key=lambda item: (item.num_keypoints, item.score), reverse=True)
    boxes = np.array([label.box for label in ranked], np.float64).reshape(-1, 4)
    boxes[:, 2:] += boxes[:, :2]  # (x, y, w, h) -> (x1, y1, x2, y2)
    duplicate = (iou_matrix(boxes, boxes) > max_iou) | (intersection_over_smaller(boxes, boxes) > max_ios)
    # ``ranked`` is best first: descending ranks as scores keep that order
    keep = greedy_suppression(duplicate, -np.arange(len(ranked)), threshold=0.5)
    return [ranked[index] for index in keep]
