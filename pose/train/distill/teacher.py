"""The teacher: MediaPipe BlazePose (legacy ``solutions.pose`` API), which ships its models in the wheel.

Only ``model_complexity=1`` is used: its ``pose_landmark_full.tflite`` is inside the MediaPipe 0.10.21 wheel,
while complexities 0 and 2 download their model on first use. MediaPipe is imported when a
:class:`MediaPipeTeacher` is built, never at module import, so everything else in ``pose.train.distill``
works without it. Tests use any callable with the :class:`Teacher` signature instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

TEACHER_NAMES = ("mediapipe",)
MEDIAPIPE_COMPLEXITY = 1
"""The only BlazePose complexity whose model ships in the wheel (0 and 2 download theirs)."""


@dataclass(frozen=True)
class TeacherOutput:
    """One person found by the teacher in one image.

    Attributes:
        landmarks: ``(33, 3)`` float32 BlazePose ``(x, y, visibility)``; x, y normalised to the image.
        mask: ``(H, W)`` float32 person probability in 0..1 at the image size, or None.
    """

    landmarks: np.ndarray
    mask: np.ndarray | None


class Teacher(Protocol):
    """BGR uint8 ``(H, W, 3)`` image -> the most prominent person in it, or None."""

    def __call__(self, image: np.ndarray) -> TeacherOutput | None: ...


@dataclass(frozen=True)
class PeoplePrediction:
    """Everyone a multi-person COCO-17 teacher found in one image.

    Attributes:
        boxes: ``(N, 4)`` float32 ``(x1, y1, x2, y2)`` image pixels.
        box_scores: ``(N,)`` float32 person confidence in 0..1.
        keypoints: ``(N, 17, 2)`` float32 COCO-17 ``(x, y)`` image pixels.
        keypoint_scores: ``(N, 17)`` float32 keypoint confidence in 0..1.
    """

    boxes: np.ndarray
    box_scores: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)


class PeopleTeacher(Protocol):
    """BGR uint8 ``(H, W, 3)`` image -> every person found, with COCO-17 keypoints (e.g. YOLO11n-pose)."""

    def __call__(self, image: np.ndarray) -> PeoplePrediction: ...


class TeacherUnavailableError(RuntimeError):
    """The teacher's package is not installed."""


class MediaPipeTeacher:
    """BlazePose (full model) in static-image mode, with its person segmentation.

    Raises:
        TeacherUnavailableError: MediaPipe is not installed (``pip install ".[distill]"``).
    """

    def __init__(self) -> None:
        try:
            import mediapipe as mp
        except ImportError:
            raise TeacherUnavailableError(
                "the MediaPipe teacher needs the 'distill' extra: pip install '.[distill]' "
                "(mediapipe 0.10.21, numpy<2)"
            ) from None
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=MEDIAPIPE_COMPLEXITY, enable_segmentation=True
        )

    def __call__(self, image: np.ndarray) -> TeacherOutput | None:
        result = self._pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        landmarks = np.array(
            [(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float32
        )
        mask = None if result.segmentation_mask is None else np.asarray(result.segmentation_mask, np.float32)
        return TeacherOutput(landmarks=landmarks, mask=mask)

    def close(self) -> None:
        self._pose.close()


def create_teacher(name: str) -> Teacher:
    """The teacher called ``name`` (one of :data:`TEACHER_NAMES`)."""
    if name == "mediapipe":
        return MediaPipeTeacher()
    raise ValueError(f"unknown teacher {name!r}; available: {', '.join(TEACHER_NAMES)}")
