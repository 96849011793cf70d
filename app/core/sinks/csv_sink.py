"""Tidy CSV of keypoints (one row per frame x person x keypoint) with a metadata JSON beside it.

Columns, in this order (pixels, origin top-left, x right, y down; COCO keypoint names)::

    frame,time_s,track_id,keypoint,x,y,score,x_smooth,y_smooth,box_x1,box_y1,box_x2,box_y2,box_score

Rows go to ``NAME.partial-XXXXXX.csv`` beside the target and are flushed after every frame, so a killed run
leaves that file whole up to its last line; ``close`` moves it into place (:mod:`app.core.sinks.outputs`).
The metadata file (``<name>.meta.json``) is written when the CSV is in place, with the number of frames, the
measured frame rate, the dropped-frame count and how the run ended (until then a scratch copy with
``"ended": null`` sits beside it).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.core.sinks.base import Sink, SinkError, SinkStats
from app.core.sinks.metadata import RunMetadata
from app.core.sinks.outputs import (
    CSV_SUFFIXES,
    METADATA_SUFFIXES,
    Output,
    check_outputs,
    commit_partial,
    discard_partial,
    reserve_partial,
    shown,
)
from app.core.types import Frame, FrameResult, RunInfo
from pose.skeleton import COCO, Skeleton

COLUMNS: tuple[str, ...] = (
    "frame", "time_s", "track_id", "keypoint", "x", "y", "score", "x_smooth", "y_smooth",
    "box_x1", "box_y1", "box_x2", "box_y2", "box_score",
)


def metadata_path(csv_path: str | Path) -> Path:
    """Where the metadata JSON of a CSV goes: ``out.csv`` -> ``out.meta.json``."""
    path = Path(csv_path)
    return path.with_name(f"{path.stem}.meta.json")


def result_rows(result: FrameResult, skeleton: Skeleton = COCO) -> list[list[object]]:
    """The CSV rows of one frame, formatted (pixels to 0.01, scores to 0.0001, time to 1 microsecond)."""
    rows: list[list[object]] = []
    names = skeleton.keypoints
    for i, track_id in enumerate(result.track_ids.tolist()):
        box = [f"{value:.2f}" for value in result.boxes[i]]
        box_score = f"{result.box_scores[i]:.4f}"
        raw, smooth, scores = result.keypoints[i], result.keypoints_smooth[i], result.scores[i]
        for k, name in enumerate(names):
            rows.append([
                result.frame_index, f"{result.timestamp_s:.6f}", track_id, name,
                f"{raw[k, 0]:.2f}", f"{raw[k, 1]:.2f}", f"{scores[k]:.4f}",
                f"{smooth[k, 0]:.2f}", f"{smooth[k, 1]:.2f}", *box, box_score,
            ])
    return rows


class CsvSink(Sink):
    """Writes the keypoints of every processed frame to ``path`` (and ``<stem>.meta.json`` beside it).

    Args:
        path: the CSV file (``.csv``).
        skeleton: keypoint names for the ``keypoint`` column.
        label: how messages name this output (the CLI passes ``"--csv"``).
        recording: the annotated video the same run writes, named in the metadata (as given).
    """

    def __init__(
        self, path: str | Path, skeleton: Skeleton = COCO, label: str = "CSV", recording: Path | None = None
    ) -> None:
        self.path = Path(path)
        self.recording = recording
        self.metadata_path = metadata_path(self.path)
        self.skeleton = skeleton
        self.label = label
        self.partial_path: Path | None = None
        self._metadata_scratch: Path | None = None
        self._file: IO[str] | None = None
        self._writer: Any = None  # a csv.writer (its type is private to the csv module)
        self._metadata: RunMetadata | None = None
        self._written: tuple[Path, ...] = ()

    @property
    def stats(self) -> SinkStats:
        frames = self._metadata.frames if self._metadata is not None else 0
        return SinkStats(paths=self._written, frames=frames)

    def outputs(self) -> tuple[Output, ...]:
        return (Output(self.label, self.path, CSV_SUFFIXES),
                Output(f"metadata of {self.label}", self.metadata_path, METADATA_SUFFIXES))

    def open(self, info: RunInfo) -> CsvSink:
        check_outputs(self.outputs(), inputs=[info.source.spec])
        self.partial_path = reserve_partial(self.path)
        try:
            self._file = self.partial_path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(COLUMNS)
            self._file.flush()
            recording = str(self.recording) if self.recording is not None else None
            outputs = {"csv": self.path.name, "recording": recording, "columns": list(COLUMNS)}
            self._metadata = RunMetadata(info, outputs=outputs)
            self._metadata_scratch = reserve_partial(self.metadata_path)
            self._metadata.write_to(self._metadata_scratch)
        except (OSError, SinkError) as error:
            self._discard()
            if isinstance(error, SinkError):
                raise
            reason = error.strerror or error
            raise SinkError(f"cannot write {self.label} '{shown(self.path)}': {reason}") from error
        return self

    def write(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None = None) -> None:
        if self._file is None:
            raise SinkError(f"{self.label} '{shown(self.path)}' is not open")
        self._writer.writerows(result_rows(result, self.skeleton))
        self._file.flush()
        self._metadata.count_frame(time.monotonic(), frame.dropped_frames)

    def close(self) -> None:
        """Move the CSV into place, then write the metadata beside it (with :attr:`outcome`)."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        commit_partial(self.partial_path, self.path)
        self.partial_path = None
        self._written = (self.path,)
        self._metadata.save(self.metadata_path, self.outcome)
        self._written = (self.path, self.metadata_path)
        discard_partial(self._metadata_scratch)
        self._metadata_scratch = None

    def _discard(self) -> None:
        """Remove what a failed ``open`` created."""
        if self._file is not None:
            self._file.close()
            self._file = None
        for partial in (self.partial_path, self._metadata_scratch):
            if partial is not None:
                discard_partial(partial)
        self.partial_path = self._metadata_scratch = None
