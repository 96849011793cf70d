"""Outputs of a run behind one interface (:class:`Sink`): the keypoint CSV and the annotated recording."""

from app.core.sinks.base import RunOutcome, Sink, SinkError
from app.core.sinks.csv_sink import COLUMNS, CsvSink, metadata_path
from app.core.sinks.recorder import VideoRecorder

__all__ = ["COLUMNS", "CsvSink", "RunOutcome", "Sink", "SinkError", "VideoRecorder", "metadata_path"]
