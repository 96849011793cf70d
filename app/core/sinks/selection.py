"""The outputs a user chose (:class:`Outputs`): one value from which the CLI, the GUI and the run session
check and build the sinks, so the three make the same files the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.sinks.base import Sink
from app.core.sinks.csv_sink import CsvSink
from app.core.sinks.outputs import check_outputs
from app.core.sinks.recorder import VideoRecorder
from pose.skeleton import COCO, Skeleton


@dataclass(frozen=True)
class Outputs:
    """Where a run writes; None leaves that output off.

    Attributes:
        csv: the keypoint CSV (its metadata JSON goes beside it, ``<stem>.meta.json``).
        video: the annotated recording (``.mp4``, ``.m4v``, ``.mov``, ``.avi``).
        csv_label, video_label: how messages name them (the CLI passes its flags ``"--csv"``, ``"--record"``).
    """

    csv: Path | None = None
    video: Path | None = None
    csv_label: str = "CSV"
    video_label: str = "recording"

    @property
    def any(self) -> bool:
        return self.csv is not None or self.video is not None

    def sinks(self, skeleton: Skeleton = COCO) -> list[Sink]:
        """The unopened sinks that write these outputs; ``skeleton`` names the CSV's keypoints."""
        sinks: list[Sink] = []
        if self.csv is not None:
            sinks.append(CsvSink(self.csv, skeleton, label=self.csv_label, recording=self.video))
        if self.video is not None:
            sinks.append(VideoRecorder(self.video, label=self.video_label))
        return sinks

    def check(self, inputs: Iterable[str | Path] = ()) -> None:
        """Refuse unsafe outputs before any work starts (see :func:`~app.core.sinks.outputs.check_outputs`);
        raises SinkError naming the output and the file, creating nothing."""
        check_outputs([output for sink in self.sinks() for output in sink.outputs()], inputs=inputs)
