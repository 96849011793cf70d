"""Run loop: sinks get every frame, stop conditions, outputs stay valid when the source fails mid-run."""

from __future__ import annotations

import csv
import json
import threading

import cv2
import pytest
from scripted_people import (
    Scene,
    SceneSource,
    ScriptedDetector,
    ScriptedEstimator,
    ScriptedPerson,
    relay,
    walking,
)

from app.core.config import DEFAULT_DETECT_EVERY
from app.core.errors import SourceError
from app.core.pipeline import Pipeline
from app.core.run_stats import RunSummary
from app.core.runner import run
from app.core.session import NO_OUTPUTS, RunSession
from app.core.sinks import Outputs, metadata_path
from app.core.sources.base import FrameSource


@pytest.fixture
def scene() -> Scene:
    left, right = walking((150, 240), (40, 0)), walking((450, 240), (-40, 0))
    return Scene([ScriptedPerson(left), ScriptedPerson(right)])


@pytest.fixture
def pipeline(scene) -> Pipeline:
    return Pipeline(estimator=ScriptedEstimator(scene, noise_px=1.0), detector=ScriptedDetector(scene))


def _run(pipeline: Pipeline, source: FrameSource, outputs: Outputs = NO_OUTPUTS, overlay: bool = False,
         **options) -> RunSummary:
    session = RunSession(pipeline, overlay=overlay)
    session.open(source, outputs)
    return run(session, **options)


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _video_frames(path) -> int:
    capture, count = cv2.VideoCapture(str(path)), 0
    while capture.read()[0]:
        count += 1
    return count


def test_run_feeds_every_frame_to_every_sink(tmp_path, scene, pipeline):
    out_csv, out_video = tmp_path / "run.csv", tmp_path / "run.mp4"
    summary = _run(pipeline, SceneSource(scene, 12), Outputs(csv=out_csv, video=out_video))
    assert summary.frames == 12 and summary.person_frames == 24 and summary.max_people == 2
    assert summary.tracks == 2 and not summary.stopped_early
    assert summary.detector_frames == -(-12 // DEFAULT_DETECT_EVERY)  # frames 0, k, 2k, ...
    assert set(summary.stage_ms) == {"read", "detect", "pose", "track", "smooth", "render", "total"}
    assert summary.stage_ms["render"] > 0 and summary.mean_fps > 0
    assert len(_rows(out_csv)) == 12 * 2 * 17
    assert _video_frames(out_video) == 12
    csv_written, video_written = summary.outputs
    assert csv_written.paths == (out_csv, metadata_path(out_csv)) and csv_written.frames == 12
    assert video_written.paths == (out_video,) and video_written.frames == 12


def test_max_frames_and_stop_end_the_run_early(scene, pipeline):
    assert _run(pipeline, SceneSource(scene, 12), max_frames=5).frames == 5
    stop = threading.Event()

    def stop_after_three(frame, result, annotated) -> None:
        if frame.index == 2:
            stop.set()

    summary = _run(pipeline, SceneSource(scene, 12), on_frame=stop_after_three, stop=stop)
    assert summary.frames == 3 and summary.stopped_early


def test_on_frame_gets_final_timings_and_the_overlay_when_asked(scene, pipeline):
    seen = []
    _run(pipeline, SceneSource(scene, 3), overlay=True,
         on_frame=lambda frame, result, annotated: seen.append((frame, result, annotated)))
    assert [frame.index for frame, _, _ in seen] == [0, 1, 2]
    for frame, result, annotated in seen:
        assert annotated.shape == frame.image.shape and annotated.any()
        assert result.timings_ms["total"] >= result.timings_ms["pose"] + result.timings_ms["render"]


def test_each_run_starts_ids_from_one():
    scene = relay()
    pipeline = Pipeline(estimator=ScriptedEstimator(scene, noise_px=1.0), detector=ScriptedDetector(scene))
    runs: list[list[list[int]]] = [[], []]  # track IDs per frame, per run
    for ids in runs:
        _run(pipeline, SceneSource(scene, 7),
             on_frame=lambda f, r, a, ids=ids: ids.append(sorted(r.track_ids)))
    assert runs[0][0] == [1, 2] and runs[0][-1] == [3, 4]
    assert runs[1] == runs[0]


def test_outputs_stay_valid_when_the_source_fails(tmp_path, scene, pipeline):
    out_csv, out_video = tmp_path / "run.csv", tmp_path / "run.mp4"
    with pytest.raises(SourceError, match="broke after 7 frames"):
        _run(pipeline, SceneSource(scene, 12, fail_after=7), Outputs(csv=out_csv, video=out_video))
    assert len(_rows(out_csv)) == 7 * 2 * 17
    meta = json.loads(metadata_path(out_csv).read_text())
    assert meta["run"]["frames"] == 7
    assert _video_frames(out_video) == 7
