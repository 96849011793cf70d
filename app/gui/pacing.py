"""Real-time pacing of a video file in watch mode, and frame-rate meters. Qt-free.

Watch mode ties the video's clock to the wall clock: when playback starts (or resumes, or after a seek) the
next frame's timestamp is anchored to "now", and a frame at media time ``t`` is due ``t - t0`` seconds
later. When processing is slower than the video, the frames whose successor is already due are read
(decoded) but not processed, so the picture stays in step with real time; :class:`WatchClock` says which.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class WatchClock:
    """Maps wall time to media time (seconds) from an anchor set by :meth:`start`."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._anchor: tuple[float, float] | None = None  # (wall s, media s)

    @property
    def started(self) -> bool:
        return self._anchor is not None

    def start(self, media_s: float) -> None:
        """The frame at ``media_s`` is due now."""
        self._anchor = (self._clock(), media_s)

    def stop(self) -> None:
        """Forget the anchor (on pause and seek); the next :meth:`start` sets a new one."""
        self._anchor = None

    def media_now(self) -> float:
        """The media time that is due now, in seconds."""
        if self._anchor is None:
            raise RuntimeError("WatchClock.start() was not called")
        wall_s, media_s = self._anchor
        return media_s + (self._clock() - wall_s)

    def is_stale(self, timestamp_s: float, frame_interval_s: float) -> bool:
        """True when the frame after the one at ``timestamp_s`` is already due: this one can be skipped."""
        return timestamp_s + frame_interval_s <= self.media_now()

    def wait_s(self, timestamp_s: float) -> float:
        """Seconds until the frame at ``timestamp_s`` is due (0 when it is due or late)."""
        return max(0.0, timestamp_s - self.media_now())


class RateMeter:
    """Events per second over the last ``window_s`` seconds of wall time.

    ``add(now_s, count)`` records ``count`` events at ``now_s``; ``rate(now_s)`` is the number of events
    after the oldest kept sample divided by the time since it (None until two samples span some time).
    """

    def __init__(self, window_s: float = 2.0) -> None:
        if window_s <= 0:
            raise ValueError(f"RateMeter window must be > 0 seconds, got {window_s}")
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def add(self, now_s: float, count: int = 1) -> None:
        self._samples.append((now_s, count))
        while len(self._samples) > 2 and now_s - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    def rate(self, now_s: float) -> float | None:
        if len(self._samples) < 2:
            return None
        first_s = self._samples[0][0]
        span_s = max(now_s, self._samples[-1][0]) - first_s
        if span_s <= 0:
            return None
        return sum(count for _, count in list(self._samples)[1:]) / span_s
