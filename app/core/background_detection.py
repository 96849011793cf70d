"""Scheduled detector runs on a worker thread, collected a fixed number of frames later.

While people are being followed from their keypoints, a scheduled detection only looks for newcomers (and
gives back a limb that a followed box lost, :func:`merge_detections`), so it need not hold up the frame it
was taken on: :class:`BackgroundDetection` runs it on a worker thread while
the next frames are posed, and hands its boxes back exactly ``lag`` frames later (waiting if it is not done
yet). Results therefore do not depend on timing: the same stream gives the same output on any machine.
One detector call runs at a time (ultralytics models are not safe to call from two threads at once).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from detectors.base import Detections, PersonDetector
from pose.base import Closeable
from pose.geometry import iou_matrix

NEWCOMER_IOU = 0.3
"""A detected box overlapping no followed person's box this much (IoU) is someone new."""
SAME_PERSON_IOU = 0.5
"""A detected and a followed box that are each other's best match with at least this IoU are one person."""


class BackgroundDetection(Closeable):
    """At most one detector run in flight, started on one frame and collected ``lag`` frames later.

    :meth:`close` (or leaving a ``with`` block) waits for the run in flight and stops the worker thread;
    :meth:`start` afterwards raises ``RuntimeError``.

    Args:
        detector: the person detector (called on the worker thread).
        lag: frames between :meth:`start` and the frame whose :meth:`collect` returns the result (>= 1).
    """

    def __init__(self, detector: PersonDetector, lag: int) -> None:
        if lag < 1:
            raise ValueError(f"the lag of a background detection must be >= 1 frame, got {lag}")
        self.detector, self.lag = detector, lag
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future[Detections] | None = None
        self._frames_waited = 0

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def start(self, image: np.ndarray) -> None:
        """Detect people in ``image`` (copied: the caller may draw on it) on the worker thread."""
        self._ensure_open()
        if self._pending is not None:
            raise RuntimeError("a background detection is already running; collect or cancel it first")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="background-detection")
        self._pending = self._executor.submit(self.detector, image.copy())
        self._frames_waited = 0

    def collect(self) -> Detections | None:
        """Call once per frame after :meth:`start`: the detections on the ``lag``-th call (waiting for the
        run to finish if need be), else None. Re-raises the detector's error."""
        if self._pending is None:
            return None
        self._frames_waited += 1
        if self._frames_waited < self.lag:
            return None
        pending, self._pending = self._pending, None
        return pending.result()

    def cancel(self) -> None:
        """Drop the run in flight, after it finishes, so that the detector is free for the caller."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()  # waits; its error, if any, no longer matters

    def _close(self) -> None:
        self.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True)


def merge_detections(
    boxes: np.ndarray, box_scores: np.ndarray, detections: Detections
) -> tuple[np.ndarray, np.ndarray]:
    """The people followed, ``boxes`` (N, 4) with ``box_scores`` (N,), merged with a detector run's boxes.

    A followed box and a detected box that are each other's best match with IoU >= :data:`SAME_PERSON_IOU`
    are one person: the followed box widens to their union, so a limb that the pose lost (and with it the
    box made from the pose) comes back into the crop. A detected box that overlaps no followed box
    (IoU < :data:`NEWCOMER_IOU`) is a newcomer, added with its score.
    """
    detected = np.asarray(detections.xyxy, np.float32).reshape(-1, 4)
    scores = np.asarray(detections.scores, np.float32).reshape(-1)
    if not len(boxes) or not len(detected):
        return np.concatenate([boxes, detected]), np.concatenate([box_scores, scores])
    overlap = iou_matrix(detected, boxes)  # (detections, followed)
    followed = np.arange(len(boxes))
    best_detection = overlap.argmax(axis=0)
    same = (overlap.argmax(axis=1)[best_detection] == followed) & (
        overlap[best_detection, followed] >= SAME_PERSON_IOU
    )
    partner = detected[best_detection]
    union = np.concatenate(
        [np.minimum(boxes[:, :2], partner[:, :2]), np.maximum(boxes[:, 2:], partner[:, 2:])], axis=1
    )
    merged = np.where(same[:, None], union, boxes).astype(np.float32)
    new = overlap.max(axis=1) < NEWCOMER_IOU
    return np.concatenate([merged, detected[new]]), np.concatenate([box_scores, scores[new]])
