"""The metadata JSON written beside outputs, and the output-path checks every file sink shares."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import app
from app.core.sinks.base import SinkError
from app.core.types import RunInfo


def check_writable(path: str | Path, what: str) -> None:
    """Raise :class:`SinkError` naming ``path`` unless a file can be created there (nothing is created)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise SinkError(f"cannot write {what} '{path}': it is a folder; give a file name")
    if not folder.is_dir():
        raise SinkError(f"cannot write {what} '{path}': folder '{folder}' does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SinkError(f"cannot write {what} '{path}': permission denied")


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

    def to_dict(self, finished: bool = False) -> dict[str, object]:
        source = self.info.source
        return {
            "app": {"name": "edite-pose", "version": app.__version__, "python": platform.python_version()},
            "started_utc": self.started.isoformat(timespec="seconds"),
            "finished": finished,
            "source": {
                "spec": source.spec,
                "kind": source.kind,
                "width": source.size[0],
                "height": source.size[1],
                "nominal_fps": source.fps,
                "frame_count": source.frame_count,
                "is_live": source.is_live,
            },
            "run": {
                "frames": self.frames,
                "measured_fps": self.measured_fps,
                "dropped_frames": self.dropped_frames,
            },
            "pipeline": dataclasses.asdict(self.info.pipeline),
            "settings": dict(self.info.settings),
            "outputs": self.outputs,
        }

    def save(self, path: str | Path, finished: bool = False) -> None:
        """Write the JSON atomically (a reader never sees a half-written file)."""
        path = Path(path)
        temporary = path.with_name(f".{path.name}.tmp")
        try:
            temporary.write_text(json.dumps(self.to_dict(finished), indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, path)
        except OSError as error:
            raise SinkError(f"cannot write metadata '{path}': {error.strerror or error}") from error
