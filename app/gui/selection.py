"""Which person a click on the picture means. Qt-free."""

from __future__ import annotations

import numpy as np

from app.core.types import FrameResult


def track_at(result: FrameResult, x: float, y: float) -> int | None:
    """The track ID of the person whose box contains the image point ``(x, y)`` (pixels), or None.

    When boxes overlap, the smallest box wins: the person in front is usually the nearer, smaller-looking
    target of a click than a large box behind them.
    """
    boxes = result.boxes
    inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
    if not inside.any():
        return None
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    candidates = np.flatnonzero(inside)
    return int(result.track_ids[candidates[np.argmin(areas[candidates])]])
