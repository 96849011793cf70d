"""What every person detector returns and promises: `Detections` and the `PersonDetector` protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class DetectorUnavailableError(RuntimeError):
    """A detector cannot be built on this machine (e.g. YOLO weights absent and not downloadable).

    The message is one line that says what is missing and what to do; `create_detector` catches it,
    falls back to the offline detector and shows the message as the fallback's `notice`.
    """


class DetectorWeightsNotFoundError(ValueError):
    """The weights the user named are no file here and no official name to download: a mistake to fix,
    raised (one line naming the file and what to do) instead of falling back to another detector."""


@dataclass(frozen=True)
class Detections:
    """Person boxes found in one frame, best score first.

    Attributes:
        xyxy: (N, 4) float32, image pixels (x1, y1, x2, y2), x right, y down; x2 - x1 is the width.
        scores: (N,) float32 in [0, 1], higher is more certain (comparable within one detector only).
    """

    xyxy: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        xyxy = np.ascontiguousarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        scores = np.ascontiguousarray(self.scores, dtype=np.float32).reshape(-1)
        if len(xyxy) != len(scores):
            raise ValueError(f"Detections: {len(xyxy)} boxes but {len(scores)} scores")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "scores", scores)

    @classmethod
    def empty(cls) -> Detections:
        """No person in the frame."""
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return len(self.scores)


@runtime_checkable
class PersonDetector(Protocol):
    """Finds people in a BGR frame.

    Attributes:
        name: the name `create_detector` knows it by: "yolo", "hog" or "none".
        description: one human-readable line for the GUI/CLI, e.g. "YOLO yolo11n.pt (cpu)".
        is_fallback: True for the offline fallback, so every place that shows the detector can say so.
        notice: why this detector was chosen instead of the one asked for (one line), else None.
    """

    name: str
    description: str
    is_fallback: bool
    notice: str | None

    def __call__(self, image: np.ndarray) -> Detections:
        """Detect people in `image`: (H, W, 3) uint8 BGR. Returns boxes in its pixel coordinates."""
        ...


def check_bgr_image(image: np.ndarray) -> None:
    """Raise ValueError unless `image` is an (H, W, 3) uint8 array, the frame format of the whole app."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"person detectors take (H, W, 3) uint8 BGR frames, got {got}")
