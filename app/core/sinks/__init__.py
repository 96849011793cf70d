"""Outputs of a run behind one interface (:class:`Sink`): the keypoint CSV and the annotated recording, chosen
with one :class:`Outputs` value."""

from app.core.sinks.base import RunOutcome, Sink, SinkError, SinkStats
from app.core.sinks.csv_sink import COLUMNS, CsvSink, metadata_path
from app.core.sinks.recorder import VideoRecorder
from app.core.sinks.selection import Outputs

__all__ = ["COLUMNS", "CsvSink", "Outputs", "RunOutcome", "Sink", "SinkError", "SinkStats", "VideoRecorder",
           "metadata_path"]
