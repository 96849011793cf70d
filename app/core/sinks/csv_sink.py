"""Tidy CSV of keypoints (one row per frame x person x keypoint) with a metadata JSON beside it.

Columns, in this order (pixels, origin top-left, x right, y down; COCO keypoint names)::

    frame,time_s,track_id,keypoint,x,y,score,x_smooth,y_smooth,box_x1,box_y1,box_x2,box_y2,box_score

Rows are flushed after every frame, so a crash loses at most the frame being written. The metadata file
(``<name>.meta.json``) is written when the CSV opens and rewritten (atomically) when it closes, with the
number of frames, the measured frame rate and the dropped-frame count.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.core.sinks.base import Sink, SinkError
from app.core.sinks.metadata import RunMetadata, check_writable
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
    """Writes the keypoints of every processed frame to ``path`` (and ``<stem>.meta.json`` beside it)."""

    def __init__(self, path: str | Path, skeleton: Skeleton = COCO) -> None:
        self.path = Path(path)
        self.metadata_path = metadata_path(self.path)
        self.skeleton = skeleton
        self._file: IO[str] | None = None
        self._writer: Any = None  # a csv.writer (its type is private to the csv module)
        self._metadata: RunMetadata | None = None

    def open(self, info: RunInfo) -> CsvSink:
        check_writable(self.path, "CSV")
        check_writable(self.metadata_path, "metadata")
        try:
            self._file = self.path.open("w", newline="", encoding="utf-8")
        except OSError as error:
            raise SinkError(f"cannot write CSV '{self.path}': {error.strerror or error}") from error
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)
        self._file.flush()
        self._metadata = RunMetadata(info, outputs={"csv": self.path.name, "columns": list(COLUMNS)})
        self._metadata.save(self.metadata_path)
        return self

    def write(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None = None) -> None:
        if self._file is None:
            raise SinkError(f"CSV '{self.path}' is not open")
        self._writer.writerows(result_rows(result, self.skeleton))
        self._file.flush()
        self._metadata.count_frame(time.monotonic(), frame.dropped_frames)

    def close(self) -> None:
        if self._file is None:
            return
        self._file.close()
        self._file = None
        self._metadata.save(self.metadata_path, finished=True)
