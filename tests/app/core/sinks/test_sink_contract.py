"""One contract for every sink: however the run ends, the output is in place, whole, and says how it ended.

Runs each sink through the run loop ending four ways (source end, stop request, Ctrl-C, source failure) and
checks: the file replaced the earlier one only then, nothing partial is left, it holds every processed frame,
and the sink was told the :class:`RunOutcome`. Also: no sink writes over its source.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import replace
from pathlib import Path

import av
import cv2
import pytest
from scripted_people import Scene, SceneSource, ScriptedDetector, ScriptedEstimator, ScriptedPerson, walking

from app.core.errors import SinkError, SourceError
from app.core.pipeline import Pipeline
from app.core.runner import run
from app.core.session import RunSession
from app.core.sinks import Outputs, RunOutcome, Sink

FRAMES = 12
STOP_AFTER = 5


def _csv_frames(path: Path) -> int:
    with path.open(newline="") as handle:
        return len({row["frame"] for row in csv.DictReader(handle)})


def _mp4_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _avi_frames(path: Path) -> int:
    capture, count = cv2.VideoCapture(str(path)), 0
    while capture.read()[0]:
        count += 1
    return count


SINKS = {  # name -> (file name, the Outputs field that writes it, frames in the file)
    "csv": ("out.csv", "csv", _csv_frames),
    "mp4": ("out.mp4", "video", _mp4_frames),
    "avi": ("out.avi", "video", _avi_frames),
}


@pytest.fixture
def scene() -> Scene:
    return Scene([ScriptedPerson(walking((200, 240), (30, 0)))])


@pytest.fixture
def pipeline(scene) -> Pipeline:
    return Pipeline(estimator=ScriptedEstimator(scene), detector=ScriptedDetector(scene))


def _run(session: RunSession, how: str) -> None:
    stop = threading.Event()

    def on_frame(frame, result, annotated) -> None:
        if frame.index == STOP_AFTER - 1 and how == "stop":
            stop.set()
        if frame.index == STOP_AFTER - 1 and how == "ctrl-c":
            raise KeyboardInterrupt

    run(session, on_frame=on_frame, stop=stop)


ENDINGS = {  # how -> (exception the run raises, expected outcome)
    "finished": (None, RunOutcome("finished", FRAMES)),
    "stop": (None, RunOutcome("interrupted", STOP_AFTER)),
    "ctrl-c": (KeyboardInterrupt, RunOutcome("interrupted", STOP_AFTER, signal="SIGINT")),
    "source-fails": (SourceError, RunOutcome("failed", STOP_AFTER,
                                             error=f"scene:{FRAMES} broke after {STOP_AFTER} frames")),
}


@pytest.mark.parametrize("how", list(ENDINGS))
@pytest.mark.parametrize("kind", list(SINKS))
def test_every_ending_leaves_a_whole_file_in_place(tmp_path, scene, pipeline, kind, how):
    name, field, frames_in = SINKS[kind]
    target = tmp_path / name
    target.write_bytes(b"an earlier good file")
    session = RunSession(pipeline)
    session.open(SceneSource(scene, FRAMES, fail_after=STOP_AFTER if how == "source-fails" else None),
                 Outputs(**{field: target}))
    (sink,) = session.sinks
    raises, expected = ENDINGS[how]
    if raises is None:
        _run(session, how)
    else:
        with pytest.raises(raises):
            _run(session, how)
    processed = FRAMES if how == "finished" else STOP_AFTER
    assert sink.outcome == expected
    assert frames_in(target) == processed
    assert sink.stats.frames == processed and target in sink.stats.paths
    assert not list(tmp_path.glob("*.partial-*"))


def _sink(field: str, target: Path) -> Sink:
    (sink,) = Outputs(**{field: target}).sinks()
    return sink


@pytest.mark.parametrize("kind", list(SINKS))
def test_no_sink_writes_over_its_source(tmp_path, scene, pipeline, kind):
    name, field, _ = SINKS[kind]
    source = SceneSource(scene, 1).open()
    target = tmp_path / name
    target.write_bytes(b"the input")
    info = pipeline.run_info(source.info)
    info = replace(info, source=replace(info.source, spec=str(target)))
    with pytest.raises(SinkError, match="is the input"):
        _sink(field, target).open(info)
    assert target.read_bytes() == b"the input" and [p.name for p in tmp_path.iterdir()] == [name]
