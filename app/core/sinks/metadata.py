"""The metadata JSON written beside the CSV: what a run used, how far it got and how it ended."""

from __future__ import annotations

import dataclasses
import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path

import app
from app.core.sinks.base import RunOutcome, SinkError
from app.core.sinks.outputs import commit_partial, discard_partial, reserve_partial, shown
from app.core.types import RunInfo


class RunMetadata:
    """What a run used and how it went, serialised as JSON.

    Holds the :class:`RunInfo` (source, model, weights SHA-256, detector and fallback, all settings), counts
    frames as they are written, and measures the processing rate from the wall clock between them.
    """

    def __init__(self, info: RunInfo, outputs: dict[str, object]) -> None:
        self.info = info
        self.outputs = outputs
        self.started = datetime.now(UTC)
        self.frames = 0
        self.dropped_frames = 0
        self._first_s: float | None = None
        self._last_s: float | None = None

    def count_frame(self, now_s: float, dropped_frames: int) -> None:
        """One more frame written at monotonic time ``now_s``; ``dropped_frames``: the source's total."""
        self.frames += 1
        self.dropped_frames = dropped_frames
        if self._first_s is None:
            self._first_s = now_s
        self._last_s = now_s

    @property
    def measured_fps(self) -> float | None:
        """Frames per second of wall time between the first and last frame written (None before two)."""
        if self.frames < 2 or self._last_s <= self._first_s:
            return None
        return (self.frames - 1) / (self._last_s - self._first_s)

    def to_dict(self, outcome: RunOutcome | None = None) -> dict[str, object]:
        """JSON-ready data; ``outcome`` None (the run is still going, or was killed): ``ended`` is null."""
        source = self.info.source
        ended = outcome.to_dict() if outcome is not None else {
            "ended": None, "frames": self.frames, "signal": None, "error": None}
        return {
            "app": {"name": "edite-pose", "version": app.__version__, "python": platform.python_version()},
            "started_utc": self.started.isoformat(timespec="seconds"),
            "outcome": ended,
            "source": {
                "spec": source.spec,
                "kind": source.kind,
                "width": source.size[0],
                "height": source.size[1],
                "nominal_fps": _finite(source.fps),
                "frame_count": source.frame_count,
                "is_live": source.is_live,
            },
            "run": {
                "frames": self.frames,
                "measured_fps": _finite(self.measured_fps),
                "dropped_frames": self.dropped_frames,
            },
            "pipeline": dataclasses.asdict(self.info.pipeline),
            "settings": dict(self.info.settings),
            "outputs": self.outputs,
        }

    def save(self, path: str | Path, outcome: RunOutcome | None = None) -> None:
        """Write the JSON (strict: no NaN or Infinity) to ``path`` atomically (never half a file)."""
        path = Path(path)
        partial = reserve_partial(path)
        try:
            self.write_to(partial, outcome)
        except SinkError:
            discard_partial(partial)
            raise
        commit_partial(partial, path)

    def write_to(self, path: Path, outcome: RunOutcome | None = None) -> None:
        """Write the JSON to ``path`` in place (for a scratch file only: see :meth:`save`)."""
        text = json.dumps(self.to_dict(outcome), indent=2, allow_nan=False) + "\n"
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise SinkError(f"cannot write metadata '{shown(path)}': {error.strerror or error}") from error


def _finite(value: float | None) -> float | None:
    """``value``, or None for a missing or non-finite number (JSON has no Infinity)."""
    return value if value is not None and math.isfinite(value) else None
