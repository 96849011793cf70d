"""How a run went: per-frame results counted into a :class:`RunSummary` (frames, people, tracks, timings)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.core.sinks.base import SinkStats
from app.core.types import STAGES, Frame, FrameResult


@dataclass(frozen=True)
class RunSummary:
    """How a run went.

    Attributes:
        frames: frames processed.
        person_frames: people summed over frames (rows in the CSV / 17).
        max_people: most people reported in one frame.
        tracks: distinct track IDs reported.
        elapsed_s: wall time from the source's opening (its outputs started) to the run's close, in seconds.
        stage_ms: mean milliseconds per frame for each stage of :data:`app.core.types.STAGES`.
        detector_frames: frames on which the detector ran.
        dropped_frames: frames the source dropped (live sources).
        stopped_early: True when the run was closed before its source ended (``max_frames``, a stop request).
        outputs: what each output wrote (files in place, frames), in the order they were closed.
    """

    frames: int
    person_frames: int
    max_people: int
    tracks: int
    elapsed_s: float
    stage_ms: Mapping[str, float]
    detector_frames: int
    dropped_frames: int
    stopped_early: bool
    outputs: tuple[SinkStats, ...] = ()

    @property
    def mean_fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class RunStats:
    """Accumulates per-frame results into a :class:`RunSummary`."""

    started_s: float = field(default_factory=time.perf_counter)
    frames: int = 0
    person_frames: int = 0
    max_people: int = 0
    detector_frames: int = 0
    dropped_frames: int = 0
    track_ids: set[int] = field(default_factory=set)
    stage_totals_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, frame: Frame, result: FrameResult) -> None:
        self.frames += 1
        self.person_frames += result.num_people
        self.max_people = max(self.max_people, result.num_people)
        self.detector_frames += int(result.detected)
        self.dropped_frames = frame.dropped_frames
        self.track_ids.update(result.track_ids.tolist())
        for stage, ms in result.timings_ms.items():
            self.stage_totals_ms[stage] += ms

    def summary(self, stopped_early: bool = False) -> RunSummary:
        count = max(self.frames, 1)
        return RunSummary(
            frames=self.frames,
            person_frames=self.person_frames,
            max_people=self.max_people,
            tracks=len(self.track_ids),
            elapsed_s=time.perf_counter() - self.started_s,
            stage_ms={stage: total / count for stage, total in self.stage_totals_ms.items()},
            detector_frames=self.detector_frames,
            dropped_frames=self.dropped_frames,
            stopped_early=stopped_early,
        )
