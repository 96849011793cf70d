"""The overlay: skeletons, keypoints coloured by confidence, boxes labelled with track IDs, optional trails.

:class:`Renderer` draws on a copy of the frame and never modifies its input. It keeps a short history of
each person's position for trails, so use one renderer per stream (``reset()`` between streams).
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from app.core.config import RenderConfig
from app.core.types import FrameResult
from pose.skeleton import COCO, Skeleton

_TRACK_COLOURS_BGR: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0),
    (204, 121, 167), (120, 200, 255), (255, 120, 120), (160, 255, 160),
)
_RAW_COLOUR_BGR = (200, 200, 200)


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable BGR colour for a track ID (the same person keeps the same colour)."""
    return _TRACK_COLOURS_BGR[int(track_id) % len(_TRACK_COLOURS_BGR)]


def confidence_colour(score: float, min_score: float = 0.0) -> tuple[int, int, int]:
    """BGR colour for a keypoint score: red at ``min_score``, through yellow, to green at 1."""
    t = float(np.clip((score - min_score) / max(1.0 - min_score, 1e-6), 0.0, 1.0))
    red = 255 if t < 0.5 else round(255 * (1.0 - t) * 2)
    green = 255 if t >= 0.5 else round(255 * t * 2)
    return 0, green, red


def line_width(image_hw: tuple[int, int]) -> int:
    """Stroke width in pixels that stays visible on small and large frames (1 px at 360 p)."""
    return max(1, round(min(image_hw) / 360))


class Renderer:
    """Draws :class:`FrameResult` overlays according to a :class:`RenderConfig`."""

    def __init__(self, config: RenderConfig | None = None, skeleton: Skeleton = COCO) -> None:
        self.config = config or RenderConfig()
        self.skeleton = skeleton
        self._trails: dict[int, deque[tuple[float, tuple[int, int]]]] = {}

    def reset(self) -> None:
        self._trails.clear()

    def draw(self, image: np.ndarray, result: FrameResult) -> np.ndarray:
        """``(H, W, 3)`` BGR uint8 -> a new annotated image of the same shape; ``image`` is left unchanged."""
        canvas = image.copy()
        config, width = self.config, line_width(result.image_hw)
        self._remember_positions(result)
        if config.trails:
            self._draw_trails(canvas, width)
        for i, track_id in enumerate(result.track_ids.tolist()):
            colour = track_colour(track_id)
            if config.skeleton:
                if config.keypoints in ("raw", "both"):
                    thin = config.keypoints == "both"
                    self._draw_pose(canvas, result.keypoints[i], result.scores[i], colour, width, thin=thin)
                if config.keypoints in ("smooth", "both"):
                    self._draw_pose(canvas, result.keypoints_smooth[i], result.scores[i], colour, width)
            if config.boxes:
                self._draw_box(canvas, result.boxes[i], track_id if config.ids else None, colour, width)
        return canvas

    def _draw_pose(
        self, canvas: np.ndarray, points: np.ndarray, scores: np.ndarray, colour: tuple[int, int, int],
        width: int, thin: bool = False,
    ) -> None:
        visible = scores >= self.config.min_score
        pixels = np.round(points).astype(np.int32)
        limb_colour = _RAW_COLOUR_BGR if thin else colour
        limb_width = 1 if thin else 2 * width
        for a, b in self.skeleton.limbs:
            if visible[a] and visible[b]:
                cv2.line(canvas, tuple(pixels[a]), tuple(pixels[b]), limb_colour, limb_width, cv2.LINE_AA)
        radius = max(1, width) if thin else 2 * width + 1
        for k in np.flatnonzero(visible):
            fill = _RAW_COLOUR_BGR if thin else confidence_colour(scores[k], self.config.min_score)
            cv2.circle(canvas, tuple(pixels[k]), radius, fill, -1, cv2.LINE_AA)

    @staticmethod
    def _draw_box(
        canvas: np.ndarray, box: np.ndarray, track_id: int | None, colour: tuple[int, int, int], width: int
    ) -> None:
        x1, y1, x2, y2 = np.round(box).astype(int).tolist()
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, width)
        if track_id is None:
            return
        label, scale = f"#{track_id}", 0.5 * width
        (text_w, text_h), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, width)
        top = max(y1 - text_h - baseline - 2, 0)
        cv2.rectangle(canvas, (x1, top), (x1 + text_w + 4, top + text_h + baseline + 2), colour, -1)
        cv2.putText(canvas, label, (x1 + 2, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    width, cv2.LINE_AA)

    def _remember_positions(self, result: FrameResult) -> None:
        """Append each person's box-bottom centre (where they stand); drop points older than ``trail_s``."""
        now = result.timestamp_s
        for track_id, box in zip(result.track_ids.tolist(), result.boxes, strict=True):
            point = (round((box[0] + box[2]) / 2), round(box[3]))
            self._trails.setdefault(track_id, deque()).append((now, point))
        for track_id in list(self._trails):
            trail = self._trails[track_id]
            while trail and now - trail[0][0] > self.config.trail_s:
                trail.popleft()
            if not trail:
                del self._trails[track_id]

    def _draw_trails(self, canvas: np.ndarray, width: int) -> None:
        for track_id, trail in self._trails.items():
            points = [point for _, point in trail]
            for j in range(1, len(points)):
                fade = max(1, round(width * 2 * j / len(points)))
                cv2.line(canvas, points[j - 1], points[j], track_colour(track_id), fade, cv2.LINE_AA)
